#include "core/solar.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sb {

namespace {
constexpr double kDeg = std::numbers::pi / 180.0;
constexpr double kClearBeamShare = 0.8;  // of the global horizontal, under a clear sky
constexpr double kSystemLosses = 0.14;
}  // namespace

SunPosition sun_position(double latitude, double longitude, TimePoint t) {
  double jd = static_cast<double>(to_ms(t)) / 86'400'000.0 + 2440587.5;
  double n = jd - 2451545.0;
  double L = std::fmod(280.460 + 0.9856474 * n, 360.0);
  double g = std::fmod(357.528 + 0.9856003 * n, 360.0) * kDeg;
  double lambda = (L + 1.915 * std::sin(g) + 0.020 * std::sin(2 * g)) * kDeg;
  double eps = (23.439 - 0.0000004 * n) * kDeg;
  double ra = std::atan2(std::cos(eps) * std::sin(lambda), std::cos(lambda));
  double dec = std::asin(std::sin(eps) * std::sin(lambda));
  double gmst_h = std::fmod(18.697374558 + 24.06570982441908 * n, 24.0);
  double ha = (gmst_h * 15.0 + longitude) * kDeg - ra;
  double lat = latitude * kDeg;
  double sin_el = std::sin(lat) * std::sin(dec) + std::cos(lat) * std::cos(dec) * std::cos(ha);
  double el = std::asin(std::clamp(sin_el, -1.0, 1.0));
  double az =
      std::atan2(std::sin(ha), std::cos(ha) * std::sin(lat) - std::tan(dec) * std::cos(lat));
  double az_deg = std::fmod(az / kDeg + 180.0 + 360.0, 360.0);
  return {el / kDeg, az_deg};
}

double clear_sky_ghi(double elevation_deg) {
  if (elevation_deg <= 0) return 0;
  double cz = std::sin(elevation_deg * kDeg);
  return 1098.0 * cz * std::exp(-0.057 / cz);
}

double plane_of_array(SunPosition sun, double ghi, double beam_share, double tilt_deg,
                      double azimuth_deg) {
  if (ghi <= 0) return 0;
  double el = sun.elevation_deg * kDeg, az = sun.azimuth_deg * kDeg;
  double tilt = tilt_deg * kDeg, saz = azimuth_deg * kDeg;
  double cos_inc =
      std::sin(el) * std::cos(tilt) + std::cos(el) * std::sin(tilt) * std::cos(az - saz);
  double beam_h = ghi * beam_share, diffuse = ghi - beam_h;
  double dni = std::min(beam_h / std::max(std::sin(el), 0.05), 1000.0);
  return dni * std::max(cos_inc, 0.0) + diffuse * (1 + std::cos(tilt)) / 2 +
         ghi * 0.2 * (1 - std::cos(tilt)) / 2;
}

double clear_sky_pv_w(std::span<const PvArray> arrays, double latitude, double longitude,
                      TimePoint t) {
  auto sun = sun_position(latitude, longitude, t);
  double ghi = clear_sky_ghi(sun.elevation_deg);
  if (ghi <= 0) return 0;
  double w = 0;
  for (const auto& a : arrays)
    w += a.peak_w * plane_of_array(sun, ghi, kClearBeamShare, a.tilt_deg, a.azimuth_deg) / 1000.0 *
         (1 - kSystemLosses);
  return w;
}

double clear_sky_pv_wh(std::span<const PvArray> arrays, double latitude, double longitude,
                       TimePoint from, TimePoint to) {
  // 5 minutes up to a week (2,016 steps), then about 2,000 steps, at most an hour each: years
  // of monthly or yearly rows stay a fraction of a second.
  const Millis span = to - from;
  const Millis kStep = std::clamp<Millis>(span / 2'000, Millis(5 * 60'000), Millis(3'600'000));
  double wh = 0;
  for (TimePoint t = from; t < to; t += kStep) {
    auto width = std::min(kStep, to - t);
    // The step's middle stands for it.
    double w = clear_sky_pv_w(arrays, latitude, longitude, t + width / 2);
    wh += w * std::chrono::duration<double, std::ratio<3600>>(width).count();
  }
  return wh;
}

}  // namespace sb
