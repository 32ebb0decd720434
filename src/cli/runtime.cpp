#include "cli/runtime.hpp"

#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <future>
#include <iostream>
#include <mutex>

#include "cli/fleet_api.hpp"
#include "engine/drivers.hpp"
#include "engine/fleet.hpp"
#include "outputs/mqtt/publisher.hpp"
#include "outputs/rest/rest_api.hpp"

namespace sb::cli {

namespace asio = boost::asio;

Runtime::Runtime(const Clock& clock, int threads) : clock_(clock), threads_(std::max(1, threads)) {
  // Idle keep-alive connections to devices take at most half the open-file limit (raised at
  // start, main.cpp): the rest is for polls in flight, the database and the API's clients.
  net::HttpClientOptions options;
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    options.max_idle_total = std::max<std::size_t>(64, lim.rlim_cur / 2);
  http_ = std::make_unique<net::HttpClient>(io_.get_executor(), options);
}

Runtime::~Runtime() {
  shutdown();
}

void Runtime::start_threads() {
  if (!io_threads_.empty()) return;
  guard_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      io_.get_executor());
  for (int i = 0; i < threads_; ++i) io_threads_.emplace_back([this] { io_.run(); });
}

Result<void> Runtime::start(engine::Config config, bool poll, bool serve, std::string owner) {
  // A SQLite file has one owner at a time; a PostgreSQL database is shared by fleet workers.
  const bool shared = store::is_postgres(config.gateway.database);
  if (!owner.empty() && !shared) {
    auto lock = store::OwnerLock::take(config.gateway.database, std::move(owner));
    if (!lock) return fail(lock.error());
    lock_ = std::move(*lock);
  }
  auto st = store::open_store(config.gateway.database);
  if (!st) return fail(st.error());
  store_ = std::move(*st);
  // A fleet worker: the fleet's records and key first, so a wrong key stops the start.
  std::optional<engine::Config> base;
  std::string key;
  if (config.fleet && poll) {
    auto k = engine::load_fleet_key(*config.fleet);
    if (!k) return fail(k.error());
    key = std::move(*k);
    auto f = store::open_fleet(config.gateway.database);
    if (!f) return fail(f.error());
    fleet_ = std::move(*f);
    // The status rows (every 2 s, the whole fleet's) on a connection of their own: their
    // reads must never hold up a lease renewal.
    auto sf = store::open_fleet(config.gateway.database);
    if (!sf) return fail(sf.error());
    status_fleet_ = std::move(*sf);
    // The account budgets too: a shared FoxESS account asks it before every call.
    auto bf = store::open_fleet(config.gateway.database);
    if (!bf) return fail(bf.error());
    budget_fleet_ = std::move(*bf);
    base = config;
  }
  if (budget_fleet_) ledger_ = std::make_unique<engine::FleetLedger>(*budget_fleet_);
  engine::GatewayDeps deps{io_.get_executor(), clock_, *store_,      engine::builtin_drivers(),
                           blocking_,          *http_, ledger_.get()};
  auto listen_host = config.gateway.listen_host;
  auto listen_port = config.gateway.listen_port;
  rest::RestOptions ro{config.gateway.api_token, true,
                       config.gateway.metrics == "devices"   ? prometheus::Detail::Devices
                       : config.gateway.metrics == "vendors" ? prometheus::Detail::Vendors
                                                             : prometheus::Detail::Auto};
  auto mqtt = config.mqtt;
  gateway_ = std::make_unique<engine::Gateway>(deps, std::move(config));
  if (auto r = gateway_->start(poll); !r) return r;
  // A worker's REST API shows the whole fleet (the others' status rows) and reaches the
  // devices other workers poll through the fleet's command queue.
  const auto worker_id = engine::new_worker_id();
  if (fleet_)
    front_ = std::make_unique<engine::FleetGateway>(*gateway_, view_, *fleet_, *store_, blocking_,
                                                    base->fleet->lease, worker_id);
  GatewayApi& api = front_ ? static_cast<GatewayApi&>(*front_) : *gateway_;
  if (mqtt && poll) {
    // Each worker publishes what it polls: the broker sees every device once.
    mqtt_ = std::make_unique<mqtt::Publisher>(io_.get_executor(), *gateway_, *mqtt);
    if (auto r = mqtt_->start(); !r) return r;
  }
  if (serve) {
    auto router = rest::make_router(api, *store_, blocking_, clock_, ro);
    // A worker's API manages the fleet's connections too (sealed with the fleet key).
    if (fleet_)
      add_fleet_connection_routes(*router, *fleet_, *store_, key, blocking_, ro.api_token);
    server_ = std::make_unique<net::HttpServer>(io_.get_executor(), router);
    if (auto r = server_->listen(listen_host, listen_port); !r) return r;
    // Other commands on this database (`control`) reach the gateway here.
    auto host = listen_host == "0.0.0.0" ? "127.0.0.1" : listen_host == "::" ? "::1" : listen_host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    if (auto r = shared ? Result<void>{}
                        : lock_.set_api("http://" + host + ":" + std::to_string(server_->port()));
        !r)
      return r;
  }
  start_threads();
  if (base) {
    std::string api;
    if (server_) {
      auto host = listen_host == "0.0.0.0" || listen_host == "::" ? "" : listen_host;
      api = "http://" + (host.empty() ? engine::host_name() : host) + ":" +
            std::to_string(server_->port());
    }
    worker_ = std::make_unique<engine::FleetWorker>(*fleet_, *store_, *gateway_, io_.get_executor(),
                                                    view_, *status_fleet_, std::move(*base),
                                                    std::move(key), worker_id, api);
    if (auto r = worker_->check_key(); !r) return r;
    // The first round before start() returns: `run` logs what it polls, a test sees it held.
    if (auto r = worker_->step(); !r)
      log(LogLevel::Warning, "fleet", "", r.error().message);
    else
      log(LogLevel::Info, "fleet", "",
          "worker " + worker_->id() + " joined the fleet" + (r->empty() ? "" : ": " + *r));
    worker_->start();
  }
  return {};
}

Result<std::string> Runtime::reload(engine::Config next, std::chrono::milliseconds budget) {
  if (worker_) return worker_->reload(std::move(next));
  return gateway_->reload(std::move(next), budget);
}

void Runtime::run_until_signal(std::function<void()> on_signal, std::function<void()> on_reload) {
  start_threads();
  // The signals arrive on an io thread; what they ask is done here, on the calling thread,
  // since a reload waits for connections to stop (which needs the io threads free).
  std::mutex m;
  std::condition_variable cv;
  bool stop = false;
  int reloads = 0;
  asio::signal_set signals(io_, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec && on_signal) on_signal();
    std::lock_guard lock(m);
    stop = true;
    cv.notify_all();
  });
  asio::signal_set hangup(io_);
  std::function<void()> arm;
  if (on_reload) {
    hangup.add(SIGHUP);
    arm = [&] {
      hangup.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        {
          std::lock_guard lock(m);
          ++reloads;
          cv.notify_all();
        }
        arm();
      });
    };
    arm();
  }
  std::unique_lock lock(m);
  for (;;) {
    cv.wait(lock, [&] { return stop || reloads > 0; });
    if (stop) break;
    reloads = 0;
    lock.unlock();
    on_reload();
    lock.lock();
  }
  lock.unlock();
  boost::system::error_code ignored;
  hangup.cancel(ignored);
  shutdown();
}

void Runtime::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (server_) server_->stop();
  if (mqtt_) mqtt_->stop();  // offline, retained, before the devices go
  // Lets go of the fleet's connections and hands them back, so others take them at once.
  if (worker_) worker_->stop();
  if (gateway_) {
    // With the io threads running, drivers log out of their devices; without, nothing could
    // have been opened.
    if (io_threads_.empty())
      gateway_->stop();
    else
      gateway_->close(std::chrono::seconds(3));
  }
  for (int i = 0; i < 100 && server_ && server_->active_connections() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  blocking_.wait();
  if (store_) store_->close();
  lock_ = store::OwnerLock();
  guard_.reset();
  io_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  server_.reset();
  mqtt_.reset();
  front_.reset();
  worker_.reset();
  gateway_.reset();  // its drivers' planners ask the ledger
  ledger_.reset();
  budget_fleet_.reset();
  status_fleet_.reset();
  fleet_.reset();
}

}  // namespace sb::cli
