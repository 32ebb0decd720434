// The command executor: checks a command against the device's capabilities (the command
// catalogue), refuses it while another runs or a lease holds the device, audits it before and
// after, applies it through the driver with read-back, and starts a lease when it has a
// duration. It reaches devices only through a ControlHost, so it runs wherever the device's
// connection is held: the one gateway today, the worker that holds the connection in a fleet.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/clock.hpp"
#include "core/driver.hpp"
#include "core/model.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace sb::engine {

class LeaseKeeper;

/// A device's driver as a command reaches it.
struct CommandTarget {
  DeviceInfo device;
  Driver* driver = nullptr;
  std::shared_ptr<void> keep;  ///< keeps the connection alive while the command runs
};

/// What the executor and the lease keeper need of the place devices are polled.
class ControlHost {
 public:
  virtual ~ControlHost() = default;
  /// The device's driver; nullopt when no connection has the device, with the devices that
  /// are known in `known` ("a, b") for the message.
  virtual std::optional<CommandTarget> target(const std::string& device, std::string& known) = 0;
  /// An event for the operator (stored, logged, published).
  virtual void record_event(Event e) = 0;
  /// The device's settings changed: read them anew when next asked.
  virtual void settings_changed(const std::string& device) = 0;
};

struct ControlDeps {
  const Clock& clock;
  store::Store& store;
  boost::asio::thread_pool& blocking;  ///< for store calls
  ControlHost& host;
};

class CommandExecutor {
 public:
  CommandExecutor(ControlDeps deps, LeaseKeeper& leases) : deps_(deps), leases_(leases) {}

  /// Checks, audits, applies and verifies `cmd`; a release while a lease holds the device
  /// ends the lease. `ending`: the lease this command hands back (it skips the lease check:
  /// it must run). The audit row comes back.
  boost::asio::awaitable<Result<CommandRecord>> execute(Command cmd, const Lease* ending = nullptr);
  /// Hands a lease back: Release (with the driver's hand-back text) for a setpoint, the old
  /// value for a setting; audited as a command of `who` (default "lease:<id>"), and the lease
  /// ended as released or failed.
  boost::asio::awaitable<Result<CommandRecord>> hand_back(Lease l, std::string why,
                                                          std::string who = {});
  /// A command for the device is running.
  bool busy(const std::string& device) const;

 private:
  ControlDeps deps_;
  LeaseKeeper& leases_;
  mutable std::mutex mutex_;
  std::set<std::string> busy_;
};

}  // namespace sb::engine
