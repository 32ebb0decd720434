#include "core/calendar.hpp"

#include <date/tz.h>

namespace sb {

namespace {
const date::time_zone* tz(const void* z) {
  return static_cast<const date::time_zone*>(z);
}
}  // namespace

Calendar::Calendar(const std::string& zone) : zone_(date::locate_zone(zone)) {}

TimePoint Calendar::midnight(TimePoint t) const {
  auto day = date::floor<date::days>(tz(zone_)->to_local(t));
  return std::chrono::time_point_cast<Millis>(
      tz(zone_)->to_sys(date::local_days(day), date::choose::earliest));
}

TimePoint Calendar::next_midnight(TimePoint t) const {
  auto day = date::floor<date::days>(tz(zone_)->to_local(t));
  return std::chrono::time_point_cast<Millis>(
      tz(zone_)->to_sys(date::local_days(day) + date::days(1), date::choose::earliest));
}

LocalFields Calendar::fields(TimePoint t) const {
  auto local = tz(zone_)->to_local(std::chrono::time_point_cast<std::chrono::seconds>(t));
  auto day = date::floor<date::days>(local);
  date::year_month_day ymd(day);
  date::hh_mm_ss hms(local - day);
  return {int(ymd.year()),          int(unsigned(ymd.month())), int(unsigned(ymd.day())),
          int(hms.hours().count()), int(hms.minutes().count()), int(hms.seconds().count())};
}

TimePoint Calendar::at(int year, int month, int day, int hour) const {
  auto d =
      date::local_days(date::year(year) / date::month(unsigned(month)) / date::day(unsigned(day)));
  return std::chrono::time_point_cast<Millis>(
      tz(zone_)->to_sys(d + std::chrono::hours(hour), date::choose::earliest));
}

std::string Calendar::stamp_with_zone(TimePoint t) const {
  auto s = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto info = tz(zone_)->get_info(s);
  auto local = tz(zone_)->to_local(s);
  auto off = info.offset.count();
  char sign = off < 0 ? '-' : '+';
  off = off < 0 ? -off : off;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%02lld%02lld", sign, static_cast<long long>(off / 3600),
                static_cast<long long>(off % 3600 / 60));
  return date::format("%Y-%m-%d %H:%M:%S ", local) + info.abbrev + buf;
}

}  // namespace sb
