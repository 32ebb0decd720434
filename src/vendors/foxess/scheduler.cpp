#include "vendors/foxess/scheduler.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <type_traits>

#include "net/json.hpp"

namespace sb::foxess {

namespace json = boost::json;

namespace {

constexpr const char* kFields[] = {"enable",    "startHour", "startMinute",  "endHour",
                                   "endMinute", "workMode",  "minSocOnGrid", "fdSoc",
                                   "fdPwr",     "maxSoc"};

SchedulerRefusal bad(std::string msg) {
  return {40257, "request body parameters invalid: " + std::move(msg)};
}

std::string hm(int h, int m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%d:%02d", h, m);
  return buf;
}

// A number or a numeric string, as scheduler/get mixes them.
std::optional<double> lenient_number(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_string()) {
    const auto& s = v->as_string();
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return d;
  }
  return net::as_double(*v);
}

}  // namespace

const std::vector<std::string>& scheduler_work_modes() {
  static const std::vector<std::string> m = {"SelfUse", "Feedin", "Backup", "ForceCharge",
                                             "ForceDischarge"};
  return m;
}

int group_start(const SchedulerGroup& g) {
  return g.start_hour * 60 + g.start_minute;
}

int group_end(const SchedulerGroup& g) {
  int end = g.end_hour * 60 + g.end_minute;
  return end == 23 * 60 + 59 ? 1440 : end;
}

std::variant<std::vector<SchedulerGroup>, SchedulerRefusal> check_scheduler_groups(
    const json::value& groups, bool v1, const SchedulerLimits& limits) {
  if (!groups.is_array()) return bad("groups is required (an array of time segments)");
  const auto& a = groups.as_array();
  if (a.size() > std::size_t(kSchedulerGroups))
    return bad("at most " + std::to_string(kSchedulerGroups) + " groups");
  std::vector<SchedulerGroup> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto where = "groups[" + std::to_string(i) + "]";
    if (!a[i].is_object()) return bad(where + " must be an object");
    const auto& o = a[i].as_object();
    for (const auto& kv : o) {
      auto known = std::find_if(std::begin(kFields), std::end(kFields),
                                [&](const char* f) { return kv.key() == f; });
      if (known == std::end(kFields) || (!v1 && kv.key() == "maxSoc"))
        return bad(where + " has an unknown field '" + std::string(kv.key()) + "'");
    }
    auto integer = [&](const char* key, int lo, int hi,
                       int& out_v) -> std::optional<SchedulerRefusal> {
      auto v = o.if_contains(key);
      auto d = v ? net::as_double(*v) : std::nullopt;
      if (!d) return bad(where + "." + key + " is required (an integer)");
      if (*d != std::floor(*d) || *d < lo || *d > hi)
        return bad(where + "." + key + " must be an integer within " + std::to_string(lo) + ".." +
                   std::to_string(hi));
      out_v = int(*d);
      return std::nullopt;
    };
    SchedulerGroup g;
    if (auto e = integer("enable", 0, 1, g.enable)) return *e;
    if (auto e = integer("startHour", 0, 23, g.start_hour)) return *e;
    if (auto e = integer("startMinute", 0, 59, g.start_minute)) return *e;
    if (auto e = integer("endHour", 0, 23, g.end_hour)) return *e;
    if (auto e = integer("endMinute", 0, 59, g.end_minute)) return *e;
    auto mode = o.if_contains("workMode");
    const auto& modes = scheduler_work_modes();
    if (!mode || !mode->is_string() ||
        std::find(modes.begin(), modes.end(), std::string(mode->as_string())) == modes.end())
      return bad(where +
                 ".workMode must be one of SelfUse, Feedin, Backup, ForceCharge, "
                 "ForceDischarge");
    g.work_mode = std::string(mode->as_string());
    if (auto e = integer("minSocOnGrid", limits.min_soc_on_grid_min, 100, g.min_soc_on_grid))
      return *e;
    if (auto e = integer("fdSoc", v1 ? limits.fd_soc_min : 0, 100, g.fd_soc)) return *e;
    if (g.fd_soc < g.min_soc_on_grid)
      return bad(where + ".fdSoc (" + std::to_string(g.fd_soc) +
                 ") must not be below minSocOnGrid (" + std::to_string(g.min_soc_on_grid) + ")");
    auto pwr = o.if_contains("fdPwr");
    auto p = pwr ? net::as_double(*pwr) : std::nullopt;
    if (!p) return bad(where + ".fdPwr is required (a number, W)");
    if (*p < 0 || *p > limits.fd_pwr_max || (v1 && *p == 0))
      return bad(where + ".fdPwr must be within " + (v1 ? std::string("1") : std::string("0")) +
                 ".." + std::to_string(int(limits.fd_pwr_max)) + " W");
    g.fd_pwr = *p;
    if (v1 && o.contains("maxSoc")) {
      int m = 100;
      if (auto e = integer("maxSoc", limits.min_soc_on_grid_min, 100, m)) return *e;
      g.max_soc = m;
    }
    if (group_end(g) <= group_start(g))
      return bad(where + " " + hm(g.start_hour, g.start_minute) + "-" +
                 hm(g.end_hour, g.end_minute) +
                 " crosses midnight or is empty; split it into two segments");
    out.push_back(g);
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    for (std::size_t j = i + 1; j < out.size(); ++j) {
      if (!out[i].enable || !out[j].enable) continue;
      if (group_start(out[i]) < group_end(out[j]) && group_start(out[j]) < group_end(out[i]))
        return SchedulerRefusal{42023, "Time overlap, please reselect time"};
    }
  return out;
}

json::object to_json(const SchedulerGroup& g, bool v1) {
  json::object o{{"enable", g.enable},
                 {"startHour", g.start_hour},
                 {"startMinute", g.start_minute},
                 {"endHour", g.end_hour},
                 {"endMinute", g.end_minute},
                 {"workMode", g.work_mode},
                 {"minSocOnGrid", g.min_soc_on_grid},
                 {"fdSoc", g.fd_soc},
                 {"fdPwr", std::llround(g.fd_pwr)}};
  if (v1) o["maxSoc"] = std::to_string(g.max_soc.value_or(100));
  return o;
}

json::object to_request_json(const SchedulerGroup& g, bool v1) {
  // The write takes what get returns, but fdPwr as a number and maxSoc as an integer.
  auto o = to_json(g, false);
  o["fdPwr"] = g.fd_pwr;
  if (v1 && g.max_soc) o["maxSoc"] = *g.max_soc;
  return o;
}

std::optional<SchedulerGroup> group_from_json(const json::object& o) {
  SchedulerGroup g;
  auto field = [&](const char* key, auto& out_v) {
    using T = std::remove_reference_t<decltype(out_v)>;
    auto d = lenient_number(o.if_contains(key));
    if (!d || !std::isfinite(*d)) return false;
    if constexpr (std::is_integral_v<T>) {  // a cast out of range is undefined: refuse it
      if (*d < std::numeric_limits<T>::min() || *d > std::numeric_limits<T>::max()) return false;
    }
    out_v = static_cast<T>(*d);
    return true;
  };
  if (!field("enable", g.enable) || !field("startHour", g.start_hour) ||
      !field("startMinute", g.start_minute) || !field("endHour", g.end_hour) ||
      !field("endMinute", g.end_minute) || !field("minSocOnGrid", g.min_soc_on_grid) ||
      !field("fdSoc", g.fd_soc) || !field("fdPwr", g.fd_pwr))
    return std::nullopt;
  auto mode = o.if_contains("workMode");
  if (!mode || !mode->is_string()) return std::nullopt;
  g.work_mode = std::string(mode->as_string());
  if (auto m = lenient_number(o.if_contains("maxSoc"))) {
    if (!(*m >= 0 && *m <= 100)) return std::nullopt;
    g.max_soc = int(*m);
  }
  return g;
}

}  // namespace sb::foxess
