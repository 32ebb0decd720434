#include "core/model.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace sb {

std::string_view to_string(Quality q) {
  switch (q) {
    case Quality::Measured:
      return "measured";
    case Quality::Backfilled:
      return "backfilled";
    case Quality::Estimated:
      return "estimated";
    case Quality::Stale:
      return "stale";
  }
  return "measured";
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::Info:
      return "info";
    case Severity::Warning:
      return "warning";
    case Severity::Error:
      return "error";
  }
  return "info";
}

std::expected<std::vector<std::string>, std::string> split_choices(
    std::string_view list, std::span<const std::string_view> allowed) {
  std::vector<std::string> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto one = list.substr(0, comma);
    if (std::find(allowed.begin(), allowed.end(), one) == allowed.end())
      return std::unexpected(std::string(one));
    out.emplace_back(one);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return out;
}

std::string joined(std::span<const std::string_view> words) {
  std::string out;
  for (auto w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

Result<std::vector<std::string>> parse_gap_statuses(std::string_view list, std::string_view what) {
  auto statuses = split_choices(list, kGapStatuses);
  if (!statuses)
    return fail(ErrorKind::InvalidArgument, std::string(what) + " '" + statuses.error() +
                                                "' is not one of " + joined(kGapStatuses));
  return std::move(*statuses);
}

Result<LoadControlSetting> parse_load_control(std::string_view text) {
  static constexpr std::string_view kModes[] = {"Scheduled",
                                                "Basic",
                                                "Advanced_BatteryPowered",
                                                "Manual_always_not_powered",
                                                "Manual_always_powered",
                                                "Advanced_GeneratorPowered"};
  LoadControlSetting out;
  auto bad = [](std::string why) {
    return fail(ErrorKind::InvalidArgument, "load-control: " + why);
  };
  std::vector<std::string_view> words;
  while (!text.empty()) {
    auto sp = text.find(' ');
    if (sp != 0) words.push_back(text.substr(0, sp));
    text = sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1);
  }
  if (words.empty()) return bad("name a dry contact first (\"NC1 mode=Basic\")");
  out.contact = std::string(words[0]);
  auto clock_time = [](std::string_view v) -> std::optional<int> {
    int h = 0, m = 0;
    if (v.size() != 5 || v[2] != ':' ||
        std::sscanf(std::string(v).c_str(), "%2d:%2d", &h, &m) != 2 || h < 0 || h > 24 || m < 0 ||
        m > 59 || (h == 24 && m != 0))
      return std::nullopt;
    return h * 3600 + m * 60;
  };
  for (std::size_t i = 1; i < words.size(); ++i) {
    auto eq = words[i].find('=');
    if (eq == std::string_view::npos)
      return bad("'" + std::string(words[i]) + "' is not key=value");
    auto key = words[i].substr(0, eq), value = words[i].substr(eq + 1);
    if (key == "mode") {
      if (std::find(std::begin(kModes), std::end(kModes), value) == std::end(kModes))
        return bad("mode '" + std::string(value) +
                   "' is not one of Scheduled, Basic, Advanced_BatteryPowered, "
                   "Manual_always_not_powered, Manual_always_powered, Advanced_GeneratorPowered");
      out.mode = std::string(value);
    } else if (key == "soc_low") {
      int v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size() || v < 10 || v > 90)
        return bad("soc_low '" + std::string(value) + "' is not a whole number from 10 to 90");
      out.soc_low = v;
    } else if (key == "start" || key == "end") {
      auto t = clock_time(value);
      if (!t) return bad(std::string(key) + " '" + std::string(value) + "' is not HH:MM");
      (key == "start" ? out.start_s : out.end_s) = *t;
    } else {
      return bad("unknown key '" + std::string(key) + "' (mode, soc_low, start, end)");
    }
  }
  if (out.mode.empty() && !out.soc_low && !out.start_s && !out.end_s)
    return bad("nothing to set for " + out.contact + " (mode=, soc_low=, start=, end=)");
  if (out.mode == "Advanced_BatteryPowered" && !out.soc_low)
    return bad("mode Advanced_BatteryPowered needs soc_low");
  return out;
}

std::optional<std::string> check_weekly_plan(std::string_view text) {
  static constexpr const char* kDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                          "Friday", "Saturday", "Sunday"};
  if (text == "off") return std::nullopt;
  std::size_t start = 0;
  for (int d = 0; d < 7; ++d) {
    auto comma = text.find(',', start);
    auto end = comma == std::string_view::npos ? text.size() : comma;
    auto day = text.substr(start, end - start);
    if (day.size() != 96)
      return std::string(kDays[d]) + " has " + std::to_string(day.size()) +
             " characters; 96 quarter hours expected";
    if (auto bad = day.find_first_not_of("012"); bad != std::string_view::npos)
      return std::string(kDays[d]) + " quarter hour " + std::to_string(bad) + " is '" +
             std::string(1, day[bad]) + "'; 0 (free), 1 (no charging) or 2 (no discharging)";
    if (d < 6 && comma == std::string_view::npos)
      return "7 days expected, separated by commas; found " + std::to_string(d + 1);
    if (d == 6 && comma != std::string_view::npos) return "more than 7 days";
    start = end + 1;
  }
  return std::nullopt;
}

std::span<const std::string_view> event_codes() {
  static constexpr std::string_view kCodes[] = {"device.offline",
                                                "device.online",
                                                "device.stale",
                                                "device.fresh",
                                                "value.implausible",
                                                "counter.reset",
                                                "history.gap",
                                                "history.gap_filled",
                                                "history.gap_partial",
                                                "history.gap_estimated",
                                                "history.gap_unfillable",
                                                "command.verified",
                                                "command.unverified",
                                                "command.rejected",
                                                "command.failed",
                                                "command.interrupted",
                                                "lease.released",
                                                "lease.failed",
                                                "lease.keepalive_failed",
                                                "site.energy_imbalance",
                                                "site.pv_low",
                                                "store.disk_low",
                                                "store.disk_ok",
                                                "vendor"};
  return kCodes;
}

std::string_view event_type(std::string_view code) {
  for (auto c : event_codes())
    if (c == code) return c;
  return "vendor";
}

}  // namespace sb
