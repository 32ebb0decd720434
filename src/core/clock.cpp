#include "core/clock.hpp"

#include <charconv>
#include <cmath>

#include <cstdio>
#include "core/result.hpp"

namespace sb {

TimePoint RealClock::now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

ScaledClock::ScaledClock(TimePoint start, double speed)
    : start_(start), real_start_(std::chrono::steady_clock::now()), speed_(speed) {}

ScaledClock ScaledClock::on_timeline(TimePoint origin, double speed, TimePoint wall) {
  auto since = std::chrono::duration<double, std::milli>(wall - origin) * speed;
  return ScaledClock(origin + Millis(static_cast<std::int64_t>(since.count())), speed);
}

TimePoint ScaledClock::now() const {
  auto real = std::chrono::steady_clock::now() - real_start_;
  auto scaled = std::chrono::duration<double, std::milli>(real) * speed_;
  return start_ + Millis(static_cast<std::int64_t>(scaled.count()));
}

std::string duration_text(Millis d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  char b[48];
  if (s >= 3600)
    std::snprintf(b, sizeof b, "%lld h %02lld min", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  else if (s >= 60)
    std::snprintf(b, sizeof b, "%lld min %02lld s", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(b, sizeof b, "%lld s", static_cast<long long>(s));
  return b;
}

std::string format_iso8601(TimePoint t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<Millis> tod{t - day};
  char buf[40];
  int ms = static_cast<int>(tod.subseconds().count());
  if (ms == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(tod.hours().count()),
                  int(tod.minutes().count()), int(tod.seconds().count()));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(tod.hours().count()),
                  int(tod.minutes().count()), int(tod.seconds().count()), ms);
  }
  return buf;
}

namespace {
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}
}  // namespace

bool parse_iso8601(std::string_view s, TimePoint& out) {
  using namespace std::chrono;
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t ms = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
    if (ec != std::errc() || p != s.data() + s.size()) return false;
    out = from_ms(ms);
    return true;
  }
  int y, mo, d;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return false;
  year_month_day ymd{year(y), month(unsigned(mo)), day(unsigned(d))};
  if (!ymd.ok()) return false;
  TimePoint t = time_point_cast<Millis>(sys_days(ymd));
  if (s.size() == 10) {
    out = t;
    return true;
  }
  int h, mi, se;
  if ((s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2, h) || s.size() < 19 || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return false;
  if (h > 23 || mi > 59 || se > 60) return false;
  t += hours(h) + minutes(mi) + seconds(se);
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int frac = 0, n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) frac = frac * 10 + (s[pos] - '0'), ++n;
      ++pos;
    }
    if (n == 0) return false;
    while (n < 3) frac *= 10, ++n;
    t += Millis(frac);
  }
  if (pos == s.size()) return false;  // a zone is required: no silent local time
  if (s[pos] == 'Z' && pos + 1 == s.size()) {
    out = t;
    return true;
  }
  if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || !digits(s, pos + 4, 2, om)) return false;
    auto off = hours(oh) + minutes(om);
    out = s[pos] == '+' ? t - off : t + off;
    return true;
  }
  return false;
}

Result<Millis> parse_duration(std::string_view text) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  std::string_view unit(p, text.data() + text.size() - p);
  if (ec != std::errc() || v < 0 || !std::isfinite(v))
    return fail(ErrorKind::InvalidArgument,
                "'" + std::string(text) + "' is not a duration (e.g. 10s, 500ms, 2m)");
  double ms = 0;
  if (unit.empty() || unit == "s")
    ms = v * 1000;
  else if (unit == "ms")
    ms = v;
  else if (unit == "m" || unit == "min")
    ms = v * 60'000;
  else if (unit == "h")
    ms = v * 3'600'000;
  else if (unit == "d")
    ms = v * 86'400'000;
  else
    return fail(ErrorKind::InvalidArgument,
                "'" + std::string(text) + "' has an unknown unit (ms, s, m, h, d)");
  // Longer than any duration sunbridge has a use for, and far from what an int64 of
  // milliseconds can hold (a cast past it is undefined).
  constexpr double kMaxMs = 100.0 * 366 * 86'400'000;
  if (ms > kMaxMs)
    return fail(ErrorKind::InvalidArgument,
                "'" + std::string(text) + "' is longer than 100 years, the longest duration");
  return Millis(static_cast<std::int64_t>(ms));
}

}  // namespace sb
