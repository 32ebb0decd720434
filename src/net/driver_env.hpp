// What a driver gets from the engine: where to run, how to talk HTTP, what time it is, how to
// wait. Declared in core (as an incomplete type), defined here where its members live.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/clock.hpp"
#include "core/driver.hpp"
#include "net/blocking.hpp"
#include "net/http_client.hpp"
#include "net/quota_planner.hpp"
#include "net/retry.hpp"

namespace sb {

struct DriverEnv {
  boost::asio::any_io_executor executor;
  const Clock& clock;
  net::HttpClient& http;
  net::Sleeper& sleeper;
  /// For CPU-heavy work (PBKDF2); null: run it in place.
  boost::asio::thread_pool* blocking = nullptr;
  /// Where connections of one vendor account (ConnectionConfig::account) share its call budget
  /// (a fleet's, in PostgreSQL); null: each connection counts alone.
  net::QuotaLedger* ledger = nullptr;
};

/// Makes `planner` share the connection's account budget through the environment's ledger,
/// when the connection names an account and there is a ledger (reservations run on the
/// blocking pool).
inline void share_budget(net::QuotaPlanner& planner, const ConnectionConfig& c,
                         const DriverEnv& env) {
  if (!env.ledger || c.account.empty()) return;
  auto* pool = env.blocking;
  planner.share(*env.ledger, c.account, c.name, [pool](std::function<void()> work) {
    if (pool)
      boost::asio::post(*pool, std::move(work));
    else
      work();
  });
}

/// Before a call of `interface` by a connection whose account a fleet shares: waits for the
/// interface's next free moment across the fleet's workers, `gap` after the account's call of
/// it before (FoxESS paces each interface per API key, whoever calls). With `answered`, after
/// the call: the next moment is `gap` from now at the earliest. Nothing to wait for without a
/// shared account; a ledger that cannot answer does not hold the call up (a refusal by the
/// vendor is handled as it would be anyway).
inline boost::asio::awaitable<void> pace_shared(const ConnectionConfig& c, const DriverEnv& env,
                                                std::string interface, Millis gap,
                                                bool answered = false) {
  if (!env.ledger || c.account.empty() || !env.blocking) co_return;
  auto* ledger = env.ledger;
  auto& sleeper = env.sleeper;
  // Named, not temporaries of the co_await: g++ 12 destroys those twice (net/blocking.hpp).
  auto work = [ledger, account = c.account, interface = std::move(interface), gap, answered] {
    return ledger->pace(account, interface, gap, answered);
  };
  auto op = net::run_blocking(*env.blocking, std::move(work));
  auto wait = co_await std::move(op);
  if (wait && wait->count() > 0) co_await sleeper.sleep(*wait);
}

/// Where a connection's requests go: its host, its port (or `default_port` when it set none),
/// TLS as configured.
inline net::Endpoint endpoint_of(const ConnectionConfig& c, int default_port) {
  return {c.host, static_cast<std::uint16_t>(c.port ? c.port : default_port), c.tls};
}

}  // namespace sb
