// The fleet's ledger of vendor-account budgets: what net::QuotaPlanner asks for, answered from
// PostgreSQL (store::Fleet::reserve_calls, pace_call), so that the workers holding connections
// of one account never together pass its limit nor call one interface faster than it allows.
#pragma once

#include "net/quota_planner.hpp"
#include "store/fleet.hpp"

namespace sb::engine {

class FleetLedger final : public net::QuotaLedger {
 public:
  explicit FleetLedger(store::Fleet& fleet) : fleet_(fleet) {}
  Result<Grant> reserve(const std::string& account, const std::string& window,
                        const std::string& connection, int want, int limit) override {
    auto r = fleet_.reserve_calls(account, window, connection, want, limit);
    if (!r) return fail(with_context(r.error(), "budget of account '" + account + "'"));
    return Grant{r->granted, r->used, r->limit, r->sharers};
  }
  Result<Millis> pace(const std::string& account, const std::string& interface, Millis gap,
                      bool answered) override {
    auto r = fleet_.pace_call(account, interface, gap, answered);
    if (!r) return fail(with_context(r.error(), "pacing of account '" + account + "'"));
    return *r;
  }

 private:
  store::Fleet& fleet_;
};

}  // namespace sb::engine
