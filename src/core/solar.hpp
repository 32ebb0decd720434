// The sun over a site and what a PV array there would give under a clear sky: the simulators'
// weather starts from it, and the engine sets each day's PV beside it (the expected yield, and
// the event when a day falls far below it).
#pragma once

#include <span>

#include "core/clock.hpp"
#include "core/model.hpp"

namespace sb {

struct SunPosition {
  double elevation_deg;
  double azimuth_deg;  ///< 0 north, clockwise
};
/// Low-precision solar coordinates (Astronomical Almanac), better than 0.1° over decades.
SunPosition sun_position(double latitude, double longitude, TimePoint t);
/// Clear-sky global horizontal irradiance (Haurwitz), W/m².
double clear_sky_ghi(double elevation_deg);

/// Irradiance on a plane of `tilt_deg` facing `azimuth_deg` from a global horizontal `ghi` of
/// which `beam_share` comes straight from the sun (isotropic sky, ground albedo 0.2), W/m².
double plane_of_array(SunPosition sun, double ghi, double beam_share, double tilt_deg,
                      double azimuth_deg);

/// The AC power of `arrays` at (latitude, longitude) under a clear sky at `t`: plane-of-array
/// irradiance times peak power, less 14 % for heat, wiring and the inverter, W.
double clear_sky_pv_w(std::span<const PvArray> arrays, double latitude, double longitude,
                      TimePoint t);
/// Its energy over [from, to), Wh: in 5-minute steps up to a week, coarser for longer spans (an
/// hour at most: a year is 8,760 steps, within 1 % of 5-minute ones).
double clear_sky_pv_wh(std::span<const PvArray> arrays, double latitude, double longitude,
                       TimePoint from, TimePoint to);

}  // namespace sb
