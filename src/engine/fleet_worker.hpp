// One worker of a fleet: every round it says it is alive, renews the leases of the connections
// it holds, takes free ones up to its fair share (the fleet's connections over the live
// workers, rounded up) or hands back what is over it, and makes the gateway poll exactly what
// it holds. A lease missing from a renewal, or not renewed in time (the database unreachable),
// stops that connection at once: by then another worker may hold it. A clean stop hands every
// lease back, so the others take over without waiting for an expiry. Beside the rounds, a
// second thread runs the commands other workers' APIs queued for the connections this one
// polls (woken by NOTIFY; engine/fleet_gateway.hpp is the side that queues them).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/config.hpp"
#include "engine/fleet_status.hpp"
#include "engine/gateway.hpp"
#include "store/fleet.hpp"

namespace sb::engine {

class FleetWorker {
 public:
  /// `base` is the worker's own configuration (its file's connections, if any, are polled too);
  /// `key` opens the fleet's connection settings; `id` names the worker in the database.
  /// Queued commands run on `io` (the gateway's io threads); what the other workers write of
  /// their connections is kept in `view`.
  FleetWorker(store::Fleet& fleet, store::Store& store, Gateway& gateway,
              boost::asio::any_io_executor io, FleetView& view, store::Fleet& status_fleet,
              Config base, std::string key, std::string id, std::string api = "");
  ~FleetWorker();

  /// Refuses a key that opens none of the fleet's connections (the wrong key file): such a
  /// worker would take connections only to hand them back.
  Result<void> check_key();
  /// One round (what the thread runs every lease/3); returns what changed, for the log ("" for
  /// nothing).
  Result<std::string> step();
  /// Runs the commands queued for the connections it polls (each once); returns how many ran.
  Result<std::size_t> run_commands();
  /// Writes the status of the connections it polls (fleet_status.hpp) and reads every
  /// worker's back into view().
  Result<void> publish_status();
  /// Runs step() on its own thread until stop(), logging what each round changed, the queued
  /// commands on another as they come, and publish_status() every two seconds on a third.
  void start();
  /// Ends the rounds and hands every lease back (after the gateway stopped polling them).
  void stop();
  /// A new configuration of the worker's own (SIGHUP): applied with the connections it holds.
  Result<std::string> reload(Config next);

  const std::string& id() const { return id_; }
  /// The leases held after the last round.
  std::vector<store::ConnectionLease> held() const;

 private:
  Result<std::string> apply(const std::vector<store::FleetConnection>& rows);

  void command_loop();
  void status_loop();

  store::Fleet& fleet_;
  store::Store& store_;
  Gateway& gateway_;
  boost::asio::any_io_executor io_;
  FleetView& view_;
  store::Fleet& status_fleet_;  // the status rows' own connection (publish_status)
  Config base_;
  std::string key_, id_, api_;
  Millis ttl_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<store::ConnectionLease> held_;
  // Handed back by this worker but not released yet: the gateway's loop of each is still
  // finishing a slow call (Gateway::finishing). Renewed until it ends, then released, so that
  // the next holder never calls the vendor while this one still does.
  std::vector<store::ConnectionLease> draining_;
  std::chrono::steady_clock::time_point renewed_at_{};    // the last renewal that answered
  std::vector<Site> sites_;                               // the fleet's sites as last read
  std::vector<std::string> polling_;                      // the connections the gateway polls
  std::set<std::pair<std::string, TimePoint>> unopened_;  // rows already logged as unopenable
  // The fleet's connections as seen: their command leases go to the next holder, unless this
  // is the fleet's last worker stopping (then they are handed back, see stop()).
  std::set<std::string> passing_on_;
  bool pass_on_ = true;
  // publish_status()'s own (its thread only): what it last wrote of each connection it polls
  // (a hash of the document: unchanged ones are not written again, but all are once a minute),
  // and the newest row it read (the next round reads only documents written since).
  std::map<std::string, std::size_t> written_;
  std::chrono::steady_clock::time_point all_written_at_{};
  std::optional<TimePoint> read_up_to_;
  std::thread thread_;
  std::thread commands_;
  std::thread status_;
};

/// "host:pid:random": a worker's id, different for every start.
std::string new_worker_id();
/// This machine's name (where a worker's API answers when it listens on every address).
std::string host_name();

}  // namespace sb::engine
