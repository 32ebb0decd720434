// The fleet's shared records in PostgreSQL: its connections (settings sealed by the engine, the
// store sees only the sealed text), the workers alive, and which worker holds which connection
// (a lease with an expiry on the server's clock and an epoch that grows with each new holder).
// Claims skip rows another worker is claiming at the same moment (FOR UPDATE SKIP LOCKED), so
// two workers never hold one connection.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/model.hpp"
#include "core/result.hpp"

namespace sb::store {

struct FleetConnection {
  std::string name;
  std::string site;
  std::string vendor;
  std::string account;  ///< the vendor account whose budget it shares ("" none)
  std::string sealed;   ///< its settings as the engine sealed them
  TimePoint updated_at;
};

struct ConnectionLease {
  std::string connection;
  std::string worker;
  std::int64_t epoch = 0;
  TimePoint expires_at;
};

struct FleetWorker {
  std::string id;
  std::string host;
  std::int64_t pid = 0;
  std::string api;  ///< where its REST API answers ("" none)
  TimePoint started_at;
  TimePoint seen_at;
};

/// A command for a connection another worker may hold, as it waits and ends in the database.
/// A read of a device's settings goes the same way: `settings_read`, with `command.value` 1
/// when the holder is to read the device now (0: as it last read them), and the holder's
/// answer (the settings as a JSON document, engine/fleet_status.hpp) in `answer`.
struct FleetCommand {
  std::int64_t id = 0;
  std::string connection;
  Command command;
  bool settings_read = false;
  std::string status;  ///< queued, running, done, failed, withdrawn, interrupted
  std::string worker;  ///< who took it
  std::optional<std::int64_t> audit_id;
  std::string error_kind, error;  ///< a failed one: ErrorKind's name and the message
  std::string answer;             ///< a done settings read: what the holder read
};

/// What the holder of a connection last wrote of it (engine/fleet_status.hpp reads `status`).
struct FleetStatus {
  std::string connection;
  std::string worker;
  std::string api;  ///< where the holder's REST API answers
  TimePoint updated_at;
  std::string status;
};

class Fleet {
 public:
  virtual ~Fleet() = default;

  /// Adds a connection or replaces its site, vendor, account and settings.
  virtual Result<void> put_connection(const FleetConnection& c) = 0;
  /// Every connection, by name.
  virtual Result<std::vector<FleetConnection>> connections() = 0;
  /// Whether the fleet has a connection of that name (one row looked up, none read).
  virtual Result<bool> has_connection(const std::string& name) = 0;
  /// Removes a connection and its lease; false when there was none of that name.
  virtual Result<bool> remove_connection(const std::string& name) = 0;

  /// The worker is alive (seen now, by the server's clock).
  virtual Result<void> heartbeat(const FleetWorker& w) = 0;
  /// The worker stopped cleanly: no longer counted among the live ones (a dead one is counted
  /// until `alive_within` passes). Forgets workers not seen for a day too.
  virtual Result<void> leave(const std::string& worker) = 0;
  /// Workers seen within `alive_within`.
  virtual Result<std::vector<FleetWorker>> workers(Millis alive_within) = 0;

  /// Every lease, by connection (expired ones too).
  virtual Result<std::vector<ConnectionLease>> leases() = 0;
  /// Takes up to `most` connections that nobody holds (never held, expired, handed back) for
  /// `ttl`; each new holder raises the epoch. Returns what it took.
  virtual Result<std::vector<ConnectionLease>> claim(const std::string& worker, std::size_t most,
                                                     Millis ttl) = 0;
  /// Extends the leases the worker still holds with the same epoch and not expired; returns
  /// those. A lease missing from the answer is lost: stop polling and commanding it at once.
  virtual Result<std::vector<ConnectionLease>> renew(const std::string& worker,
                                                     const std::vector<ConnectionLease>& held,
                                                     Millis ttl) = 0;
  /// Hands connections back (a clean stop, more than a fair share): free for others at once.
  virtual Result<void> release(const std::string& worker,
                               const std::vector<std::string>& connections) = 0;

  /// Queues a command for the worker holding `connection` and wakes the workers; its id.
  virtual Result<std::int64_t> queue_command(const std::string& connection,
                                             const Command& command) = 0;
  /// Queues a read of `device`'s settings for the worker holding `connection` (`refresh`: read
  /// the device now) and wakes the workers; its id, looked at with command().
  virtual Result<std::int64_t> queue_settings_read(const std::string& connection,
                                                   const std::string& device, bool refresh,
                                                   const std::string& requested_by) = 0;
  /// Records what a taken settings read gave ("done" with the document, or "failed").
  virtual Result<void> finish_settings_read(std::int64_t id, const Result<std::string>& answer) = 0;
  /// Takes the queued commands (and settings reads) of these connections, oldest first: they
  /// are "running" now.
  virtual Result<std::vector<FleetCommand>> take_commands(
      const std::string& worker, const std::vector<std::string>& connections) = 0;
  /// Records how a taken command ended ("done" with its audit row, or "failed" with the error).
  virtual Result<void> finish_command(std::int64_t id, std::optional<std::int64_t> audit_id,
                                      const std::optional<Error>& error) = 0;
  /// The command as it stands.
  virtual Result<FleetCommand> command(std::int64_t id) = 0;
  /// Withdraws a command nobody took; false when one had taken it already.
  virtual Result<bool> withdraw_command(std::int64_t id) = 0;
  /// Commands of these connections still "running" under a worker that died: "interrupted".
  virtual Result<std::int64_t> interrupt_commands(const std::vector<std::string>& connections) = 0;
  /// Writes the status of connections the worker holds (connection, document); a row of a
  /// connection it does not hold (any longer) is left as it is.
  virtual Result<void> put_status(const std::string& worker,
                                  const std::vector<std::pair<std::string, std::string>>& rows) = 0;
  /// The status of every connection as its current holder wrote it (none for a connection
  /// nobody holds, or whose holder has not written yet), by connection. With `changed_after`,
  /// the document only of rows written after it: the others come with an empty `status`, so a
  /// reader keeps what it decoded before (10,000 documents are megabytes every round).
  virtual Result<std::vector<FleetStatus>> statuses(std::optional<TimePoint> changed_after) = 0;
  /// A slice of a vendor account's call budget (see net::QuotaLedger): up to `want` calls of
  /// `window` for `connection`, never past the window's limit (the largest `limit` given).
  struct Reservation {
    int granted = 0, used = 0, limit = 0, sharers = 1;
  };
  virtual Result<Reservation> reserve_calls(const std::string& account, const std::string& window,
                                            const std::string& connection, int want, int limit) = 0;
  /// The next moment a call of `account`'s `interface` may go, `gap` after the one before it
  /// (whichever connection or worker made it): how long the asker waits from now (0: at once).
  /// The moment is taken: the next asker waits `gap` longer. With `answered`, a call was
  /// answered now (the vendor took it at some moment before): the next moment is at least
  /// `gap` from now, and 0 is returned.
  virtual Result<Millis> pace_call(const std::string& account, const std::string& interface,
                                   Millis gap, bool answered) = 0;
  /// Waits up to `most` for a command to be queued (LISTEN on its own connection); true when
  /// one was. Reconnects after a loss (and says true then: one may have come meanwhile).
  virtual Result<bool> wait_for_commands(Millis most) = 0;
};

/// The fleet records of a PostgreSQL database (migrated as open_postgres does).
Result<std::unique_ptr<Fleet>> open_fleet(const std::string& conninfo);

}  // namespace sb::store
