// What a driver gets from the engine: where to run, how to talk HTTP, what time it is, how to
// wait. Declared in core (as an incomplete type), defined here where its members live.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/clock.hpp"
#include "core/driver.hpp"
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

/// Where a connection's requests go: its host, its port (or `default_port` when it set none),
/// TLS as configured.
inline net::Endpoint endpoint_of(const ConnectionConfig& c, int default_port) {
  return {c.host, static_cast<std::uint16_t>(c.port ? c.port : default_port), c.tls};
}

}  // namespace sb
