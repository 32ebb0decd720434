// What `run` and `demo` share: io threads, the blocking pool, the store, the gateway and the
// REST server, started from a Config and stopped cleanly on SIGINT / SIGTERM.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <thread>

#include "engine/config.hpp"
#include "engine/fleet_budget.hpp"
#include "engine/fleet_gateway.hpp"
#include "engine/fleet_worker.hpp"
#include "engine/gateway.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "store/owner_lock.hpp"
#include "store/store.hpp"

namespace sb::mqtt {
class Publisher;
}

namespace sb::cli {

class Runtime {
 public:
  explicit Runtime(const Clock& clock, int threads = 2);
  ~Runtime();

  boost::asio::io_context& io() { return io_; }
  boost::asio::thread_pool& blocking() { return blocking_; }
  net::HttpClient& http() { return *http_; }

  /// Opens the store, starts the gateway (polling when `poll`), the MQTT output when the
  /// config has one (and `poll`) and, when `serve`, the REST server on the config's listen
  /// address. A non-empty `owner` ("run", "demo", "control") first takes the database's owner
  /// lock (store/owner_lock.hpp): one process polls and commands a database's devices.
  Result<void> start(engine::Config config, bool poll = true, bool serve = true,
                     std::string owner = {});
  engine::Gateway& gateway() { return *gateway_; }
  /// A new configuration while running (SIGHUP): through the fleet worker when this is one, so
  /// the fleet's connections it holds stay polled.
  Result<std::string> reload(engine::Config next, std::chrono::milliseconds budget);
  /// The fleet worker, when the configuration has `fleet:` and the gateway polls.
  engine::FleetWorker* fleet_worker() { return worker_.get(); }
  store::Store& store() { return *store_; }
  std::uint16_t port() const { return server_ ? server_->port() : 0; }

  /// Runs the io threads until SIGINT/SIGTERM or stop(); `on_signal` runs first (printing).
  /// With `on_reload`, SIGHUP calls it (on this thread, one at a time).
  void run_until_signal(std::function<void()> on_signal = {}, std::function<void()> on_reload = {});
  /// Waits for a coroutine's result on the runtime's io threads (CLI one-shots).
  template <class T>
  T wait(boost::asio::awaitable<T> a);
  /// Graceful stop: stop accepting, stop polling and let drivers log out (up to 3 s), let
  /// requests finish (up to 5 s), flush.
  void shutdown();

 private:
  void start_threads();
  const Clock& clock_;
  int threads_;
  boost::asio::io_context io_;
  boost::asio::thread_pool blocking_{2};
  std::unique_ptr<net::HttpClient> http_;
  store::OwnerLock lock_;  ///< released after the store is closed
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Gateway> gateway_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<mqtt::Publisher> mqtt_;        ///< when the config has `mqtt:`
  std::unique_ptr<store::Fleet> fleet_;          ///< when the config has `fleet:`
  std::unique_ptr<store::Fleet> status_fleet_;   ///< the status rows' own connection
  std::unique_ptr<store::Fleet> budget_fleet_;   ///< the account budgets' and pacing's own
  std::unique_ptr<engine::FleetLedger> ledger_;  ///< the fleet's account budgets
  std::unique_ptr<engine::FleetWorker> worker_;
  engine::FleetView view_;                       ///< the fleet as the other workers wrote it
  std::unique_ptr<engine::FleetGateway> front_;  ///< what a worker's outputs see
  std::vector<std::thread> io_threads_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  bool stopped_ = false;
};

}  // namespace sb::cli

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

template <class T>
T sb::cli::Runtime::wait(boost::asio::awaitable<T> a) {
  start_threads();
  return boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future).get();
}
