// The FoxESS simulator's settings: battery SoC limits and device settings, the scheduler (v0
// and v1), force-charge windows, the device clock and peak shaving.
#include <algorithm>
#include <cmath>

#include "vendors/foxess/simulator_detail.hpp"

namespace sb::foxess {

using namespace detail;

void Simulator::setting_routes(Routes& api) {
  // --- Battery SoC and device settings ---
  api.get("/op/v0/device/battery/soc/get", [this](net::ServerRequest& req, const json::object&) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device_locked(req.query["sn"], err);
    if (!inv) return err;
    return Reply{kSuccess, "success",
                 json::object{{"minSoc", inv->min_soc}, {"minSocOnGrid", inv->min_soc_on_grid}}};
  });
  api.post_write("/op/v0/device/battery/soc/set",
                 [this](net::ServerRequest&, const json::object& body) {
                   std::lock_guard lock(mutex_);
                   Reply err;
                   auto* inv = device_locked(string_field(body, "sn").value_or(""), err);
                   if (!inv) return err;
                   auto a = int_field(body, "minSoc"), b = int_field(body, "minSocOnGrid");
                   if (!a || !b || *a < 10 || *a > 100 || *b < 10 || *b > 100)
                     return error(kBodyInvalid,
                                  "request body parameters invalid: minSoc and "
                                  "minSocOnGrid must be integers within 10..100");
                   inv->min_soc = int(*a);
                   inv->min_soc_on_grid = int(*b);
                   inv->site->set_reserve_soc(double(*b));
                   apply_controls_locked(*inv);
                   return Reply{};
                 });
  api.post_query(
      "/op/v0/device/setting/get", [this](net::ServerRequest&, const json::object& body) {
        auto key = string_field(body, "key").value_or("");
        auto spec = setting_specs().find(key);
        if (spec == setting_specs().end())
          return error(kBodyInvalid,
                       "request body parameters invalid: key must be one of "
                       "ExportLimit, MinSoc, MinSocOnGrid, MaxSoc, GridCode, "
                       "WorkMode");
        std::string sn;
        {
          std::lock_guard lock(mutex_);
          Reply err;
          auto* inv = device_locked(string_field(body, "sn").value_or(""), err);
          if (!inv) return err;
          sn = inv->cfg.sn;
        }
        json::object out{{"value", setting(sn, key)},
                         {"unit", spec->second.unit},
                         {"precision", spec->second.precision}};
        if (key == "WorkMode" || key == "GridCode") {
          json::array list;
          for (const auto& m : key == "WorkMode" ? kWorkModes : kGridCodes)
            list.push_back(json::string(m));
          out["enumList"] = list;
        } else {
          out["range"] = json::object{{"min", spec->second.min}, {"max", spec->second.max}};
        }
        return Reply{kSuccess, "success", std::move(out)};
      });
  api.post_write(
      "/op/v0/device/setting/set", [this](net::ServerRequest&, const json::object& body) {
        auto key = string_field(body, "key").value_or("");
        auto value = string_field(body, "value");
        auto spec = setting_specs().find(key);
        if (spec == setting_specs().end() || !value)
          return error(kBodyInvalid,
                       "request body parameters invalid: sn, key (one of "
                       "ExportLimit, MinSoc, MinSocOnGrid, MaxSoc, GridCode, "
                       "WorkMode) and value (a string) are required");
        std::lock_guard lock(mutex_);
        Reply err;
        auto* inv = device_locked(string_field(body, "sn").value_or(""), err);
        if (!inv) return err;
        if (key == "WorkMode" || key == "GridCode") {
          const auto& list = key == "WorkMode" ? kWorkModes : kGridCodes;
          if (std::find(list.begin(), list.end(), *value) == list.end())
            return error(kBodyInvalid, "request body parameters invalid: " + key + " '" + *value +
                                           "' is not supported");
          if (key == "GridCode") {
            inv->grid_code = *value;
            return Reply{};
          }
          if (inv->scheduler_on)
            return error(kScheduleActive,
                         "the work mode cannot be changed while the scheduler is enabled");
          if (*value == "PeakShaving" && !inv->cfg.has_battery)
            return error(kBodyInvalid,
                         "request body parameters invalid: peak shaving not "
                         "available on this device");
          inv->work_mode = *value;
          apply_controls_locked(*inv);
          return Reply{};
        }
        double v = 0;
        auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), v);
        if (ec != std::errc() || end != value->data() + value->size() || v < spec->second.min ||
            v > spec->second.max || std::abs(v - round_to(v, spec->second.precision)) > 1e-9)
          return error(kBodyInvalid, "request body parameters invalid: " + key + " '" + *value +
                                         "' must be a number within " +
                                         std::to_string(int(spec->second.min)) + ".." +
                                         std::to_string(int(spec->second.max)));
        if (key == "MinSoc") inv->min_soc = int(v);
        if (key == "MinSocOnGrid") {
          inv->min_soc_on_grid = int(v);
          inv->site->set_reserve_soc(v);
        }
        if (key == "MaxSoc") inv->max_soc = int(v);
        if (key == "ExportLimit") inv->export_limit_w = v;
        apply_controls_locked(*inv);
        return Reply{};
      });

  // --- Scheduler: v1, and the deprecated v0 over the same state (foxess.md §5.3, §5.5) ---
  auto scheduler_device = [this](const json::object& body, Reply& err) -> Inverter* {
    auto sn = string_field(body, "deviceSN").value_or("");
    if (sn.empty()) {
      err = error(kBodyInvalid, "request body parameters invalid: deviceSN is required");
      return nullptr;
    }
    auto* inv = device_locked(sn, err);
    if (inv && !inv->cfg.has_battery) {
      err = error(kBodyInvalid,
                  "request body parameters invalid: " + sn + " does not support the scheduler");
      return nullptr;
    }
    return inv;
  };
  auto limits_of = [](const Inverter& inv, bool v1) {
    SchedulerLimits l;
    // The deprecated V0 text gives fdPwr 0..6000 and fdSoc 0..100; v1 publishes the device's.
    l.fd_pwr_max = v1 ? inv.cfg.site.inverter_max_w : 6000;
    return l;
  };
  for (bool v1 : {true, false}) {
    std::string base = v1 ? "/op/v1/device/scheduler/" : "/op/v0/device/scheduler/";
    api.post_query(base + "get/flag", [this](net::ServerRequest&, const json::object& body) {
      auto sn = string_field(body, "deviceSN").value_or("");
      if (sn.empty())
        return error(kBodyInvalid, "request body parameters invalid: deviceSN is required");
      std::lock_guard lock(mutex_);
      Reply err;
      auto* inv = device_locked(sn, err);
      if (!inv) return err;
      return Reply{kSuccess, "success",
                   json::object{{"support", inv->cfg.has_battery ? 1 : 0},
                                {"enable", inv->scheduler_on ? 1 : 0}}};
    });
    auto set_flag = [this, scheduler_device](net::ServerRequest&, const json::object& body) {
      std::lock_guard lock(mutex_);
      Reply err;
      auto* inv = scheduler_device(body, err);
      if (!inv) return err;
      auto e = int_field(body, "enable");
      if (!e || (*e != 0 && *e != 1))
        return error(kBodyInvalid, "request body parameters invalid: enable must be 0 or 1");
      inv->scheduler_on = *e == 1;
      apply_controls_locked(*inv);
      return Reply{};
    };
    api.post_write(base + "set/flag", set_flag);
    // The seed's code example sets the flag through this undocumented path (foxess.md §8).
    if (!v1) api.post_write(base + "set", set_flag);
    api.post_query(base + "get", [this, v1, scheduler_device, limits_of](net::ServerRequest&,
                                                                         const json::object& body) {
      std::lock_guard lock(mutex_);
      Reply err;
      auto* inv = scheduler_device(body, err);
      if (!inv) return err;
      json::array groups;
      for (int i = 0; i < kSchedulerGroups; ++i)
        groups.push_back(to_json(
            std::size_t(i) < inv->groups.size() ? inv->groups[std::size_t(i)] : SchedulerGroup{},
            v1));
      json::object out{{"enable", inv->scheduler_on ? "1" : "0"}, {"groups", groups}};
      if (v1) {
        auto l = limits_of(*inv, true);
        auto prop = [](const char* unit, double lo, double hi) {
          return json::object{
              {"unit", unit}, {"precision", 1}, {"range", json::object{{"min", lo}, {"max", hi}}}};
        };
        out["properties"] = json::object{{"minSocOnGrid", prop("%", l.min_soc_on_grid_min, 100)},
                                         {"fdSoc", prop("%", l.fd_soc_min, 100)},
                                         {"fdPwr", prop("W", 0, l.fd_pwr_max)},
                                         {"maxSoc", prop("%", l.min_soc_on_grid_min, 100)}};
      }
      return Reply{kSuccess, "success", std::move(out)};
    });
    api.post_write(base + "enable", [this, v1, scheduler_device, limits_of](
                                        net::ServerRequest&, const json::object& body) {
      std::lock_guard lock(mutex_);
      Reply err;
      auto* inv = scheduler_device(body, err);
      if (!inv) return err;
      auto groups = body.if_contains("groups");
      auto checked =
          check_scheduler_groups(groups ? *groups : json::value(nullptr), v1, limits_of(*inv, v1));
      if (auto* refusal = std::get_if<SchedulerRefusal>(&checked))
        return error(refusal->err, refusal->msg);
      // The whole schedule is replaced, and writing it turns the scheduler on.
      inv->groups = std::get<std::vector<SchedulerGroup>>(std::move(checked));
      inv->scheduler_on = true;
      apply_controls_locked(*inv);
      return Reply{};
    });
  }

  // --- Force-charge windows ---
  api.get("/op/v0/device/battery/forceChargeTime/get", [this](net::ServerRequest& req,
                                                              const json::object&) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device_locked(req.query["sn"], err);
    if (!inv) return err;
    json::object out;
    for (int i = 0; i < 2; ++i) {
      const auto& w = inv->force_charge[std::size_t(i)];
      auto n = std::to_string(i + 1);
      out["enable" + n] = w.enable ? "true" : "false";  // a string here, a boolean in set
      out["startTime" + n] = json::object{{"hour", w.start_hour}, {"minute", w.start_minute}};
      out["endTime" + n] = json::object{{"hour", w.end_hour}, {"minute", w.end_minute}};
    }
    return Reply{kSuccess, "success", std::move(out)};
  });
  api.post_write("/op/v0/device/battery/forceChargeTime/set", [this](net::ServerRequest&,
                                                                     const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device_locked(string_field(body, "sn").value_or(""), err);
    if (!inv) return err;
    if (!inv->cfg.has_battery)
      return error(kBodyInvalid,
                   "request body parameters invalid: " + inv->cfg.sn + " has no battery");
    if (inv->scheduler_on)
      return error(kScheduleActive,
                   "force-charge times cannot be changed while the scheduler is "
                   "enabled");
    std::array<Inverter::Window, 2> w{};
    for (int i = 0; i < 2; ++i) {
      auto n = std::to_string(i + 1);
      auto en = body.if_contains("enable" + n);
      if (!en || !en->is_bool())
        return error(kBodyInvalid,
                     "request body parameters invalid: enable" + n + " is required (a boolean)");
      w[std::size_t(i)].enable = en->as_bool();
      for (const char* which : {"startTime", "endTime"}) {
        auto t = body.if_contains(which + n);
        auto h = t && t->is_object() ? int_field(t->as_object(), "hour") : std::nullopt;
        auto m = t && t->is_object() ? int_field(t->as_object(), "minute") : std::nullopt;
        if (!h || !m || *h < 0 || *h > 23 || *m < 0 || *m > 59)
          return error(kBodyInvalid, "request body parameters invalid: " + std::string(which) + n +
                                         " needs hour 0..23 and minute 0..59");
        auto& dst = w[std::size_t(i)];
        (std::string(which) == "startTime" ? dst.start_hour : dst.end_hour) = int(*h);
        (std::string(which) == "startTime" ? dst.start_minute : dst.end_minute) = int(*m);
      }
    }
    inv->force_charge = w;
    apply_controls_locked(*inv);
    return Reply{};
  });

  // --- Device clock ---
  api.post_query("/op/v0/device/time/get", [this](net::ServerRequest&, const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device_locked(string_field(body, "sn").value_or(""), err);
    if (!inv) return err;
    auto f = inv->cal.fields(clock_.now() + inv->clock_offset);
    auto two = [](int v) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%02d", v);
      return std::string(buf);
    };
    return Reply{kSuccess, "success",
                 json::object{{"year", std::to_string(f.year)},
                              {"month", two(f.month)},
                              {"day", two(f.day)},
                              {"hour", two(f.hour)},
                              {"minute", two(f.minute)},
                              {"second", two(f.second)}}};
  });
  api.post_write("/op/v0/device/time/set", [this](net::ServerRequest&, const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device_locked(string_field(body, "sn").value_or(""), err);
    if (!inv) return err;
    // All strings (foxess.md §5.4.16; the printed ranges are shifted, these are the intended).
    struct F {
      const char* key;
      int lo, hi;
    };
    int v[6] = {};
    const F fields[] = {{"year", 0, 2099}, {"month", 1, 12},  {"day", 1, 31},
                        {"hour", 0, 23},   {"minute", 0, 59}, {"second", 0, 59}};
    for (int i = 0; i < 6; ++i) {
      auto text = string_field(body, fields[i].key);
      int x = -1;
      if (text) {
        auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), x);
        if (ec != std::errc() || p != text->data() + text->size()) x = -1;
      }
      if (!text || x < fields[i].lo || x > fields[i].hi || (i == 0 && x > 99 && x < 2000))
        return error(kBodyInvalid, std::string("request body parameters invalid: ") +
                                       fields[i].key + " must be a string of an integer within " +
                                       (i == 0 ? std::string("0..99 or 2000..2099")
                                               : std::to_string(fields[i].lo) + ".." +
                                                     std::to_string(fields[i].hi)));
      v[i] = x;
    }
    if (v[0] < 100) v[0] += 2000;
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
    if (v[2] > kDays[v[1] - 1] + (v[1] == 2 && leap ? 1 : 0))
      return error(kBodyInvalid, "request body parameters invalid: " + std::to_string(v[0]) + "-" +
                                     std::to_string(v[1]) + " has no day " + std::to_string(v[2]));
    auto set = inv->cal.at(v[0], v[1], v[2], v[3]) + minutes(v[4]) + seconds(v[5]);
    inv->clock_offset = duration_cast<Millis>(set - clock_.now());
    inv->time_sync = false;  // setting the clock turns the device's own time sync off
    return Reply{};
  });

  // --- Peak shaving (V1.1.2) ---
  auto shaving_device = [this](const json::object& body, Reply& err) -> Inverter* {
    auto* inv = device_locked(string_field(body, "sn").value_or(""), err);
    if (inv && !inv->cfg.has_battery) {
      err = error(kBodyInvalid,
                  "request body parameters invalid: peak shaving not available on " + inv->cfg.sn);
      return nullptr;
    }
    return inv;
  };
  api.post_query("/op/v0/device/peakShaving/get", [this, shaving_device](net::ServerRequest&,
                                                                         const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = shaving_device(body, err);
    if (!inv) return err;
    char limit[16];
    std::snprintf(limit, sizeof limit, "%.1f", inv->peak_import_limit_kw);
    return Reply{
        kSuccess, "success",
        json::object{
            {"importLimit", json::object{{"value", limit},
                                         {"unit", "kW"},
                                         {"precision", 0.1},
                                         {"range", json::object{{"min", 0}, {"max", 50}}}}},
            {"soc", json::object{{"value", std::to_string(inv->peak_soc)},
                                 {"unit", "%"},
                                 {"precision", 1},
                                 {"range", json::object{{"min", 10}, {"max", 100}}}}}}};
  });
  api.post_write("/op/v0/device/peakShaving/set", [this, shaving_device](net::ServerRequest&,
                                                                         const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = shaving_device(body, err);
    if (!inv) return err;
    auto limit = body.if_contains("importLimit");
    auto l = limit ? net::as_double(*limit) : std::nullopt;
    auto soc = int_field(body, "soc");
    if (!l || *l < 0 || *l > 50 || std::abs(*l * 10 - std::round(*l * 10)) > 1e-6)
      return error(kBodyInvalid,
                   "request body parameters invalid: importLimit must be a number within "
                   "0..50 kW in steps of 0.1");
    if (!soc || *soc < 10 || *soc > 100)
      return error(kBodyInvalid,
                   "request body parameters invalid: soc must be an integer within 10..100");
    inv->peak_import_limit_kw = std::round(*l * 10) / 10;
    inv->peak_soc = int(*soc);
    apply_controls_locked(*inv);
    return Reply{};
  });
}

}  // namespace sb::foxess
