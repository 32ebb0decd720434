// Who owns a database file. One process polls and commands the devices of a database: a
// second `sunbridge run` on the same file would poll every device twice (twice the vendors'
// budgets) and hand back the first one's leases. The owner holds an exclusive lock on
// `<database>.lock` (flock: the kernel drops it when the process ends, however it ends) and
// writes who it is into the file, so others can name it and, for a gateway, reach its API.
// Read-only users (history, check-config) take no lock.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace sb::store {

/// What the lock file says of its holder.
struct LockHolder {
  long pid = 0;
  std::string role;   ///< "run", "demo", "control"
  std::string api;    ///< the gateway's REST API base ("http://127.0.0.1:8080"); "" for others
  std::string since;  ///< when it took the lock (RFC 3339)

  /// "sunbridge run (pid 4242, API http://127.0.0.1:8080, since 2026-12-04T10:00:00Z)".
  std::string describe() const;
};

class OwnerLock {
 public:
  OwnerLock() = default;
  OwnerLock(OwnerLock&& other) noexcept;
  OwnerLock& operator=(OwnerLock&& other) noexcept;
  OwnerLock(const OwnerLock&) = delete;
  OwnerLock& operator=(const OwnerLock&) = delete;
  ~OwnerLock();

  /// The lock file of a database ("" for ":memory:", which no other process can open).
  static std::string path_for(const std::string& database);

  /// Takes the lock of `database` for `role`. While a one-shot `control` holds it, waits up to
  /// `wait` for it to finish; a running gateway is not waited for. Fails with a Conflict that
  /// names the database and the holder, or Internal when the lock file cannot be made. A
  /// ":memory:" database needs no lock: an empty OwnerLock comes back.
  static Result<OwnerLock> take(const std::string& database, std::string role,
                                std::chrono::milliseconds wait = std::chrono::seconds(10));
  /// Who holds the lock of `database` now; nullopt when nobody does.
  static std::optional<LockHolder> holder(const std::string& database);

  /// Writes the holder's API address once its server listens.
  Result<void> set_api(const std::string& api);
  bool held() const { return fd_ >= 0; }

 private:
  Result<void> write();
  int fd_ = -1;
  std::string path_;
  LockHolder self_;
};

}  // namespace sb::store
