// Moving a whole history from one store to another (`sunbridge migrate`: a home's SQLite file
// into the fleet's PostgreSQL), through the Store interface on both sides, so it works between
// any two. Resumable: samples go series by series in time order, and a series continues from
// the newest sample the target already has; sites, devices, events, gaps and counter resets are
// written idempotently; the command audit and leases, which have no natural key, are copied
// only into a target that has none yet.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "store/store.hpp"

namespace sb::store {

struct MigrationProgress {
  std::int64_t samples_done = 0;   ///< samples copied (or found already there) so far
  std::int64_t samples_total = 0;  ///< samples in the source
  std::string series;              ///< the series being copied ("device metric")
};

struct MigrationReport {
  std::int64_t samples_copied = 0;   ///< written by this run
  std::int64_t samples_skipped = 0;  ///< already in the target (a resumed run)
  bool audit_copied = false;         ///< commands and leases copied (false: target had some)
  /// Per table: rows in the source, rows in the target afterwards.
  std::vector<std::pair<std::string, std::pair<std::int64_t, std::int64_t>>> counts;
  /// The tables whose counts differ, with why that may be expected ("" when all agree).
  std::string mismatches;
};

/// Copies everything `from` holds into `to`. `progress` is called after every batch.
Result<MigrationReport> migrate_store(Store& from, Store& to,
                                      const std::function<void(const MigrationProgress&)>& progress,
                                      std::size_t batch = 50'000);

}  // namespace sb::store
