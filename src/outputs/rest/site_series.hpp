// A site's history as one thing, the way its owner looks at it: power flows summed over the
// site's devices in buckets on whole minutes, hours and days of the site's time zone
// (GET /api/v1/sites/{id}/power), and every metric of every device of the site as CSV for a
// spreadsheet (GET /api/v1/sites/{id}/export). Blocking: store reads.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace sb::rest {

/// The start of the bucket of width `step` that holds `t`: steps that divide a day count from
/// the local midnight of t's day in `zone` (15 min, 1 h and 1 d buckets start on the site's
/// quarter hours, hours and midnights, across a DST change too); other steps from the epoch.
/// InvalidArgument for an unknown zone.
Result<TimePoint> bucket_start(const std::string& zone, TimePoint t, Millis step);

/// The smallest round step (1, 2, 5, 10, 15, 30 min; 1, 2, 3, 6, 12 h; 1 d) that gives at most
/// `points` buckets over `span`, a whole number of days beyond that.
Millis round_step(Millis span, std::size_t points);

/// The site's power flows (pv.power, load.power, grid.power, battery.power, ev.power where a
/// device has it) summed over its devices, in buckets of `step` from the bucket holding `from`
/// to `to`: {site, timezone, from, to, step_s, unit, columns, points: [[time_ms, pv, load, ...]],
/// peak: {pv.power: {w, at}}}. A bucket no device has a value in is null.
Result<boost::json::object> site_power(store::Store& store, const Site& site,
                                       const std::vector<DeviceInfo>& devices, TimePoint from,
                                       TimePoint to, Millis step);

/// Every stored metric of every device of the site, one column each ("<device> <metric>
/// (<unit>)"), after time_utc and time_local (the site's wall clock): raw samples when `step`
/// is absent (a row a time any of them has), else bucket means (counters: their last value) on
/// the site's bucket boundaries. Numbers at full precision (shortest round-trip form); an empty
/// cell where a column has no value. InvalidArgument when raw samples are asked for more than
/// 7 days, or the answer would pass 2,000,000 cells.
Result<std::string> site_csv(store::Store& store, const Site& site,
                             const std::vector<DeviceInfo>& devices, TimePoint from, TimePoint to,
                             std::optional<Millis> step);

/// How far the backfill of a gap has come: the share of its span done (1 once filled), its pace
/// (seconds of history filled a second since the gap was found) and, for a gap still open with
/// a pace, when it will be done at that pace. A long backfill on a budget-limited cloud takes
/// hours; this is what the dashboard's gaps table shows of it.
struct BackfillProgress {
  double done = 0;
  std::optional<double> pace;
  std::optional<TimePoint> estimated_end;
};
BackfillProgress backfill_progress(const Gap& gap);

}  // namespace sb::rest
