// Energy per local day, month or year of a site: the lifetime counters of its devices read at each
// boundary in the site's time zone (the last value in the hour before it, or up to six hours
// when that hour has none), differenced and summed. A period without a value at its start counts
// from its first value, one without a value at its end (today, this month) up to its last, and
// either says complete: false. Each row also gives the site's self-sufficiency (the share of
// the home's use not imported) and self-consumption (the share of PV not exported) in %, and
// names the counters it summed from estimates (devices without counters of their own, see
// engine/estimates.hpp). GET /api/v1/sites/{id}/energy.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace sb::rest {

enum class EnergyPeriod { Day, Month, Year };

/// Local period starts from the one holding `from` to the one after the one holding `to`, in
/// `zone` (an InvalidArgument for an unknown zone or more than 400 periods).
Result<std::vector<TimePoint>> period_boundaries(const std::string& zone, EnergyPeriod period,
                                                 TimePoint from, TimePoint to);

/// The site's rows: {start, end, complete, energy.pv_yield, energy.grid_import, ...,
/// self_sufficiency, self_consumption, estimated: [counters]} in Wh and %, a metric null when no
/// device of the site had it at both ends (a share null when what it needs is). Blocking (store
/// reads).
Result<boost::json::object> site_energy(store::Store& store, const Site& site,
                                        const std::vector<DeviceInfo>& devices, EnergyPeriod period,
                                        TimePoint from, TimePoint to);

}  // namespace sb::rest
