#include "core/schedule.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace sb {

namespace {

constexpr TouMode kModes[] = {TouMode::SelfUse, TouMode::FeedIn, TouMode::Backup, TouMode::Charge,
                              TouMode::Discharge};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    out.push_back(trim(s.substr(start, at == std::string_view::npos ? s.npos : at - start)));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto w : split(s, ' '))
    if (!w.empty()) out.push_back(w);
  return out;
}

// "HH:MM" to minutes; 24:00 only when `end`.
std::optional<int> parse_clock(std::string_view s, bool end) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  int h = 0, m = 0;
  auto r1 = std::from_chars(s.data(), s.data() + 2, h);
  auto r2 = std::from_chars(s.data() + 3, s.data() + 5, m);
  if (r1.ec != std::errc() || r1.ptr != s.data() + 2 || r2.ec != std::errc() ||
      r2.ptr != s.data() + 5)
    return std::nullopt;
  if (h == 24 && m == 0 && end) return 1440;
  if (h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string number_text(double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? p : buf);
}

// "HH:MM-HH:MM" into [start, end); `what` names it in errors.
Result<TimeWindow> parse_window(std::string_view s, const std::string& what) {
  auto dash = s.find('-');
  auto a = dash == s.npos ? std::nullopt : parse_clock(s.substr(0, dash), false);
  auto b = dash == s.npos ? std::nullopt : parse_clock(s.substr(dash + 1), true);
  if (!a || !b)
    return fail(ErrorKind::InvalidArgument,
                what + ": '" + std::string(s) + "' is not HH:MM-HH:MM (00:00..24:00)");
  if (*b <= *a)
    return fail(ErrorKind::InvalidArgument,
                what + ": " + std::string(s) +
                    " ends before it starts; split a window across midnight in two");
  return TimeWindow{*a, *b};
}

template <class T>
Result<void> check_order(const std::vector<T>& items, const char* what) {
  for (std::size_t i = 1; i < items.size(); ++i)
    if (items[i].start_minute < items[i - 1].end_minute)
      return fail(ErrorKind::InvalidArgument,
                  std::string(what) + " " + format_minutes(items[i - 1].start_minute) + "-" +
                      format_minutes(items[i - 1].end_minute) + " and " +
                      format_minutes(items[i].start_minute) + "-" +
                      format_minutes(items[i].end_minute) + " overlap");
  return {};
}

}  // namespace

std::string_view to_string(TouMode m) {
  switch (m) {
    case TouMode::SelfUse:
      return "self-use";
    case TouMode::FeedIn:
      return "feed-in";
    case TouMode::Backup:
      return "backup";
    case TouMode::Charge:
      return "charge";
    case TouMode::Discharge:
      return "discharge";
  }
  return "self-use";
}

std::string tou_mode_names() {
  std::string out;
  for (auto m : kModes) out += (out.empty() ? "" : ", ") + std::string(to_string(m));
  return out;
}

std::string format_minutes(int minutes) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

Result<TouSchedule> parse_tou_schedule(std::string_view text) {
  text = trim(text);
  TouSchedule out;
  if (text == "off") return out;
  if (text.empty())
    return fail(ErrorKind::InvalidArgument,
                "schedule is empty; give segments (00:00-05:00 charge power=3000) or off");
  int n = 0;
  for (auto part : split(text, ';')) {
    ++n;
    auto what = "segment " + std::to_string(n);
    auto w = words(part);
    if (w.size() < 2)
      return fail(ErrorKind::InvalidArgument, what + ": '" + std::string(part) +
                                                  "' needs HH:MM-HH:MM and a mode (" +
                                                  tou_mode_names() + ")");
    auto window = parse_window(w[0], what);
    if (!window) return fail(window.error());
    TouSegment seg;
    seg.start_minute = window->start_minute;
    seg.end_minute = window->end_minute;
    auto mode = std::find_if(std::begin(kModes), std::end(kModes),
                             [&](TouMode m) { return to_string(m) == w[1]; });
    if (mode == std::end(kModes))
      return fail(ErrorKind::InvalidArgument,
                  what + ": mode '" + std::string(w[1]) + "' is not one of " + tou_mode_names());
    seg.mode = *mode;
    for (std::size_t i = 2; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      auto key = w[i].substr(0, eq);
      auto value = eq == std::string_view::npos ? std::nullopt : parse_number(w[i].substr(eq + 1));
      if (key != "power" && key != "min-soc" && key != "max-soc")
        return fail(ErrorKind::InvalidArgument,
                    what + ": '" + std::string(w[i]) + "' is not power=W, min-soc=% or max-soc=%");
      if (!value)
        return fail(
            ErrorKind::InvalidArgument,
            what + ": " + std::string(key) + " needs a number ('" + std::string(w[i]) + "')");
      if (key == "power") {
        if (*value <= 0)
          return fail(ErrorKind::InvalidArgument, what + ": power must be above 0 W");
        seg.power_w = *value;
      } else {
        if (*value < 0 || *value > 100)
          return fail(ErrorKind::InvalidArgument, what + ": " + std::string(key) + " " +
                                                      number_text(*value) + " is outside 0..100 %");
        (key == "min-soc" ? seg.min_soc_percent : seg.max_soc_percent) = *value;
      }
    }
    if ((seg.mode == TouMode::Charge || seg.mode == TouMode::Discharge) && !seg.power_w)
      return fail(ErrorKind::InvalidArgument,
                  what + ": " + std::string(to_string(seg.mode)) + " needs power=W");
    if (seg.power_w && seg.mode != TouMode::Charge && seg.mode != TouMode::Discharge)
      return fail(ErrorKind::InvalidArgument,
                  what + ": power applies to charge and discharge only");
    if (seg.min_soc_percent && seg.max_soc_percent && *seg.min_soc_percent > *seg.max_soc_percent)
      return fail(ErrorKind::InvalidArgument, what + ": min-soc is above max-soc");
    out.push_back(seg);
  }
  std::stable_sort(out.begin(), out.end(), [](const TouSegment& a, const TouSegment& b) {
    return a.start_minute < b.start_minute;
  });
  if (auto ok = check_order(out, "segments"); !ok) return fail(ok.error());
  return out;
}

std::string format_tou_schedule(const TouSchedule& s) {
  if (s.empty()) return "off";
  std::string out;
  for (const auto& seg : s) {
    if (!out.empty()) out += "; ";
    out += format_minutes(seg.start_minute) + "-" + format_minutes(seg.end_minute) + " " +
           std::string(to_string(seg.mode));
    if (seg.power_w) out += " power=" + number_text(*seg.power_w);
    if (seg.min_soc_percent) out += " min-soc=" + number_text(*seg.min_soc_percent);
    if (seg.max_soc_percent) out += " max-soc=" + number_text(*seg.max_soc_percent);
  }
  return out;
}

Result<std::vector<TimeWindow>> parse_time_windows(std::string_view text) {
  text = trim(text);
  std::vector<TimeWindow> out;
  if (text == "off") return out;
  if (text.empty())
    return fail(ErrorKind::InvalidArgument, "no windows; give HH:MM-HH:MM[,HH:MM-HH:MM] or off");
  int n = 0;
  for (auto part : split(text, ',')) {
    auto w = parse_window(part, "window " + std::to_string(++n));
    if (!w) return fail(w.error());
    out.push_back(*w);
  }
  std::sort(out.begin(), out.end(), [](const TimeWindow& a, const TimeWindow& b) {
    return a.start_minute < b.start_minute;
  });
  if (auto ok = check_order(out, "windows"); !ok) return fail(ok.error());
  return out;
}

std::string format_time_windows(const std::vector<TimeWindow>& w) {
  if (w.empty()) return "off";
  std::string out;
  for (const auto& x : w)
    out += (out.empty() ? "" : ",") + format_minutes(x.start_minute) + "-" +
           format_minutes(x.end_minute);
  return out;
}

Result<std::optional<PeakShaving>> parse_peak_shaving(std::string_view text) {
  text = trim(text);
  if (text == "off") return std::optional<PeakShaving>{};
  std::optional<double> limit, soc;
  for (auto w : words(text)) {
    auto eq = w.find('=');
    auto key = w.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::nullopt : parse_number(w.substr(eq + 1));
    if ((key != "limit" && key != "soc") || !value)
      return fail(ErrorKind::InvalidArgument,
                  "peak shaving: '" + std::string(w) + "' is not limit=W or soc=% (or say off)");
    (key == "limit" ? limit : soc) = *value;
  }
  if (!limit || !soc)
    return fail(ErrorKind::InvalidArgument,
                "peak shaving needs limit=W (grid import) and soc=% (battery floor), or off");
  if (*limit < 0)
    return fail(ErrorKind::InvalidArgument, "peak shaving: limit must be 0 W or more");
  if (*soc < 0 || *soc > 100)
    return fail(ErrorKind::InvalidArgument,
                "peak shaving: soc " + number_text(*soc) + " is outside 0..100 %");
  return std::optional<PeakShaving>(PeakShaving{*limit, *soc});
}

std::string format_peak_shaving(const std::optional<PeakShaving>& p) {
  if (!p) return "off";
  return "limit=" + number_text(p->import_limit_w) + " soc=" + number_text(p->min_soc_percent);
}

}  // namespace sb
