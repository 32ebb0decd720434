// The gateway: makes a driver per connection, discovers devices, polls each on its interval,
// stores samples and events, keeps live state and health, and executes commands (validate,
// apply, read back, audit). Implements GatewayApi for the outputs.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <set>

#include "core/gateway_api.hpp"
#include "core/registry.hpp"
#include "engine/config.hpp"
#include "net/http_client.hpp"
#include "store/store.hpp"

namespace sb::net {
class QuotaLedger;
}

namespace sb::engine {

struct GatewayDeps {
  boost::asio::any_io_executor executor;
  const Clock& clock;
  store::Store& store;
  const DriverRegistry& registry;
  boost::asio::thread_pool& blocking;  ///< for store calls
  net::HttpClient& http;
  /// Where connections of one vendor account share its budget (a fleet's); null: none.
  net::QuotaLedger* ledger = nullptr;
};

class Gateway final : public GatewayApi {
 public:
  Gateway(GatewayDeps deps, Config config);
  ~Gateway() override;

  /// Makes the drivers (a bad connection fails here, clearly), stores the sites and, when
  /// `poll`, starts one polling loop per connection (the CLI's one-shots do not poll).
  Result<void> start(bool poll = true);
  /// Applies a new configuration while running: connections added are started, removed ones
  /// stopped (their leases handed back), changed ones restarted; the others poll on untouched.
  /// Refused, with nothing changed, when a new driver refuses its options or the change needs a
  /// restart (database, API address or token, threads, MQTT broker). Blocks like close(): call
  /// it from a thread that is not one of the io threads. Returns what it did, for the log.
  Result<std::string> reload(Config next, std::chrono::milliseconds budget);
  /// Stops polling; returns at once (loops end at their next wait).
  void stop();
  /// Stops polling, waits for each connection's loop to end and lets its driver close what it
  /// holds open (a login session), all within `budget`. Blocks: call it from a thread that is
  /// not one of the io threads, while they run.
  void close(std::chrono::milliseconds budget);

  /// The leases of these connections' devices outlive the connection's closing here (a
  /// fleet's connections move between workers): closing lets go of them without handing them
  /// back, and opening takes over those still running, handing back those whose time is up.
  void pass_leases_on(std::set<std::string> connections);
  /// Of `connections`, those whose polling loop a reload ended but which is still finishing a
  /// poll or a vendor call slower than the reload's budget: calls of theirs may still go out,
  /// so a fleet worker hands such a connection back only once this no longer names it.
  std::set<std::string> finishing(const std::set<std::string>& connections) const;
  /// Runs discovery once for every connection and waits for it (CLI `read`, `control`).
  boost::asio::awaitable<Result<void>> discover_all();
  /// For a gateway that does not poll (CLI `control` when no gateway runs on the database):
  /// takes the active leases of its devices from the store, so a command is refused while one
  /// holds and `release` ends it; those whose time is up are handed back now. The leases stay
  /// in the store when this process ends (it holds no lease of its own).
  boost::asio::awaitable<Result<void>> adopt_leases();
  /// Polls every known device once, storing nothing (CLI `read`).
  boost::asio::awaitable<Result<std::vector<std::pair<DeviceInfo, Snapshot>>>> poll_once();

  std::vector<Site> sites() const override;
  std::vector<DeviceInfo> devices() const override;
  std::optional<DeviceInfo> device(const std::string& id) const override;
  std::optional<Capabilities> capabilities(const std::string& device) const override;
  std::vector<DeviceLive> live() const override;
  std::vector<ConnectionHealth> health() const override;
  std::vector<SiteQuality> quality() const override;
  boost::asio::awaitable<Result<DeviceSettings>> settings(std::string device,
                                                          bool refresh) override;
  boost::asio::awaitable<Result<CommandRecord>> execute(Command command) override;
  std::vector<std::pair<std::uint64_t, Event>> events_after(std::uint64_t after) const override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sb::engine
