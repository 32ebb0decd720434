// The FoxESS simulator's inverters (list, detail, variables, real-time values, generation),
// fault codes and meters.
#include <algorithm>
#include <cmath>

#include "vendors/foxess/simulator_detail.hpp"

namespace sb::foxess {

using namespace detail;

void Simulator::device_routes(Routes& api) {
  // --- Inverters ---
  api.post_query("/op/v0/device/list", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto p = paging(body, 0, why);
    if (!p) return error(kBodyInvalid, "request body parameters invalid: " + why);
    std::lock_guard lock(mutex_);
    std::vector<const Inverter*> all;
    for (const auto& inv : inverters_) all.push_back(inv.get());
    return Reply{kSuccess, "success", page_of(all, *p, [](const Inverter* inv) {
                   return json::object{{"deviceSN", inv->cfg.sn},
                                       {"moduleSN", inv->module_sn},
                                       {"stationID", inv->station_id},
                                       {"stationName", inv->station_name},
                                       {"status", 1},
                                       {"hasPV", true},
                                       {"hasBattery", inv->cfg.has_battery},
                                       {"deviceType", inv->cfg.device_type},
                                       {"productType", inv->cfg.product_type}};
                 })};
  });
  api.get("/op/v0/device/detail", [this](net::ServerRequest& req, const json::object&) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device_locked(req.query["sn"], err);
    if (!inv) return err;
    json::array batteries;
    if (inv->cfg.has_battery)
      batteries.push_back(
          json::object{{"batterySN", "66BT" + inv->cfg.sn.substr(6)},
                       {"type", "master"},
                       {"version", "1.014"},
                       {"model", "ECS4100"},
                       {"capicty", std::to_string(int(inv->cfg.site.battery.capacity_wh))}});
    return Reply{kSuccess, "success",
                 json::object{{"deviceSN", inv->cfg.sn},
                              {"moduleSN", inv->module_sn},
                              {"stationID", inv->station_id},
                              {"stationName", inv->station_name},
                              {"afciVersion", ""},
                              {"managerVersion", "1.59"},
                              {"masterVersion", "1.55"},
                              {"slaveVersion", "1.02"},
                              {"hardwareVersion", "--"},
                              {"status", 1},
                              {"capacity", int(inv->cfg.site.inverter_max_w / 1000)},
                              {"deviceType", inv->cfg.device_type},
                              {"productType", inv->cfg.product_type},
                              {"hasBattery", inv->cfg.has_battery},
                              {"hasPV", true},
                              {"function", json::object{{"scheduler", inv->cfg.has_battery}}},
                              {"batteryList", batteries}}};
  });
  api.get("/op/v0/device/variable/get", [](net::ServerRequest&, const json::object&) {
    json::array out;
    for (const auto& v : variables()) {
      json::object names;
      for (const char* lang : {"zh_CN", "en", "de", "pt", "fr", "pl"})
        if (v.names.contains(lang)) names[lang] = v.names.at(lang);
      out.push_back(json::object{{v.name, json::object{{"unit", v.unit}, {"name", names}}}});
    }
    return Reply{kSuccess, "success", std::move(out)};
  });
  api.post_query("/op/v0/device/real/query", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto wanted = wanted_variables(body, why);
    if (!wanted) return error(kBodyInvalid, "request body parameters invalid: " + why);
    auto sn = string_field(body, "sn");
    std::lock_guard lock(mutex_);
    json::array out(json::make_shared_resource<json::monotonic_resource>());
    for (auto& inv : inverters_) {
      if (sn && !sn->empty() && inv->cfg.sn != *sn) continue;
      advance_locked(*inv, clock_.now());
      out.push_back(real_time_locked(*inv, *wanted, out.storage()));
    }
    if (sn && !sn->empty() && out.empty())
      return error(kBodyInvalid,
                   "request body parameters invalid: no device " + *sn + " in this account");
    return Reply{kSuccess, "success", std::move(out)};
  });
  api.post_query("/op/v1/device/real/query", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto wanted = wanted_variables(body, why);
    if (!wanted) return error(kBodyInvalid, "request body parameters invalid: " + why);
    auto sns = body.if_contains("sns");
    if (!sns || !sns->is_array() || sns->as_array().empty())
      return error(kBodyInvalid, "request body parameters invalid: sns is required");
    if (sns->as_array().size() > 50)
      return error(kBodyInvalid, "request body parameters invalid: at most 50 sns per request");
    std::lock_guard lock(mutex_);
    json::array out(json::make_shared_resource<json::monotonic_resource>());
    for (const auto& s : sns->as_array()) {
      if (!s.is_string())
        return error(kBodyInvalid, "request body parameters invalid: sns are strings");
      // Only devices of this account are returned; others are left out.
      auto* inv = find_locked(std::string(s.as_string()));
      if (!inv) continue;
      advance_locked(*inv, clock_.now());
      out.push_back(real_time_locked(*inv, *wanted, out.storage()));
    }
    return Reply{kSuccess, "success", std::move(out)};
  });
  api.get("/op/v0/device/generation", [this](net::ServerRequest& req, const json::object&) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device_locked(req.query["sn"], err);
    if (!inv) return err;
    auto now_c = inv->site->counters();
    auto f = inv->cal.fields(inv->site->now());
    auto month_start = inv->cal.at(f.year, f.month, 1);
    auto month_base = inv->counters_at(month_start);
    auto r1 = [](double wh) { return round_to(wh / 1000.0, 0.1); };
    return Reply{kSuccess, "success",
                 json::object{{"today", r1(ac_yield_wh(today_of(*inv)))},
                              {"month", r1(ac_yield_wh(sim::minus(now_c, month_base)))},
                              {"cumulative", r1(ac_yield_wh(now_c))}}};
  });

  // --- Fault codes (the seed gives the shape, not the catalogue: ours is documented) ---
  api.get("/op/v0/device/fault/get", [](net::ServerRequest&, const json::object&) {
    static const struct {
      int code;
      const char *en, *zh, *pl;
    } kFaults[] = {
        {1, "Grid lost", "电网丢失", "Utrata sieci"},
        {2, "Grid voltage fault", "电网电压故障", "Błąd napięcia sieci"},
        {3, "Grid frequency fault", "电网频率故障", "Błąd częstotliwości sieci"},
        {7, "PV over-voltage", "PV过压", "Przepięcie PV"},
        {9, "Isolation fault", "绝缘故障", "Błąd izolacji"},
        {11, "Residual current fault", "漏电流故障", "Błąd prądu upływu"},
        {33, "Inverter over-temperature", "逆变器过温", "Przegrzanie falownika"},
        {41, "Battery communication lost", "电池通讯丢失", "Utrata komunikacji z baterią"},
        {42, "Battery over-voltage", "电池过压", "Przepięcie baterii"},
        {43, "Battery under-voltage", "电池欠压", "Zbyt niskie napięcie baterii"},
        {44, "Battery over-temperature", "电池过温", "Przegrzanie baterii"},
        {57, "Meter communication lost", "电表通讯丢失", "Utrata komunikacji z licznikiem"},
    };
    json::array out;
    for (const auto& f : kFaults)
      out.push_back(json::object{
          {std::to_string(f.code), json::object{{"en", f.en}, {"zh_CN", f.zh}, {"pl", f.pl}}}});
    return Reply{kSuccess, "success", std::move(out)};
  });

  // --- Meters (V1.1.2) ---
  api.post_query("/op/v0/gw/list", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto p = paging(body, 0, why);
    if (!p) return error(kBodyInvalid, "request body parameters invalid: " + why);
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> all;  // (sn, station)
    for (const auto& [sn, m] : meters_) all.emplace_back(sn, m.station_id);
    return Reply{
        kSuccess, "success", page_of(all, *p, [this](const auto& m) {
          std::string name;
          for (const auto& pl : options_.plants)
            if (pl.station_id == m.second) name = pl.name;
          return json::object{
              {"sn", m.first}, {"stationID", m.second}, {"stationName", name}, {"status", 1}};
        })};
  });
  struct MeterSpec {
    const char* key;
    const char* unit;
    double lo, hi;
  };
  static const MeterSpec kMeter[] = {{"mode", "", 0, 0},
                                     {"feedinPower", "W", 0, 30000},
                                     {"outputMaxCurrent", "A", 0, 100},
                                     {"inputMaxCurrent", "A", 0, 100},
                                     {"overVoltageMaxValue", "V", 230, 280},
                                     {"underVoltageMinValue", "V", 180, 230},
                                     {"sysOnOffPowerValue", "W", 0, 30000},
                                     {"deviceQuantity", "", 1, 16}};
  static const std::vector<std::string> kMeterModes = {"normal", "feedinLimit", "G100"};
  // The meter a request names (body `sn`); mutex_ held.
  auto meter_of = [this](const json::object& body, Reply& err) {
    auto sn = string_field(body, "sn").value_or("");
    auto m = meters_.find(sn);
    if (m == meters_.end())
      err = error(kBodyInvalid, "request body parameters invalid: no meter " +
                                    (sn.empty() ? std::string("(sn is required)") : sn));
    return m;
  };
  api.post_query(
      "/op/v0/gw/setting/get", [this, meter_of](net::ServerRequest&, const json::object& body) {
        std::lock_guard lock(mutex_);
        Reply err;
        auto m = meter_of(body, err);
        if (m == meters_.end()) return err;
        json::object out;
        for (const auto& spec : kMeter) {
          json::array list;
          if (std::string(spec.key) == "mode")
            for (const auto& mode : kMeterModes) list.push_back(json::string(mode));
          out[spec.key] = json::object{{"value", m->second.values.at(spec.key)},
                                       {"unit", spec.unit},
                                       {"precision", 1},
                                       {"range", json::object{{"min", spec.lo}, {"max", spec.hi}}},
                                       {"enumList", list}};
        }
        return Reply{kSuccess, "success", std::move(out)};
      });
  api.post_write("/op/v0/gw/setting/set", [this, meter_of](net::ServerRequest&,
                                                           const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto m = meter_of(body, err);
    if (m == meters_.end()) return err;
    auto mode = string_field(body, "mode");
    if (!mode || std::find(kMeterModes.begin(), kMeterModes.end(), *mode) == kMeterModes.end())
      return error(kBodyInvalid,
                   "request body parameters invalid: mode is required (normal, feedinLimit or "
                   "G100)");
    auto values = m->second.values;
    values["mode"] = *mode;
    for (const auto& spec : kMeter) {
      std::string key = spec.key;
      if (key == "mode" || !body.contains(key)) continue;
      if (key == "deviceQuantity")
        return error(kBodyInvalid, "request body parameters invalid: deviceQuantity is read only");
      if (key == "feedinPower" && *mode == "normal")
        return error(kBodyInvalid,
                     "request body parameters invalid: feedinPower is only available in a "
                     "non-normal mode");
      if (key != "feedinPower" && *mode != "G100")
        return error(kBodyInvalid,
                     "request body parameters invalid: " + key + " is only available in G100 mode");
      auto text = string_field(body, spec.key);
      double v = -1;
      if (text) {
        auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
        if (ec != std::errc() || p != text->data() + text->size()) v = -1;
      }
      if (!text || v < spec.lo || v > spec.hi || v != std::floor(v))
        return error(kBodyInvalid, "request body parameters invalid: " + key +
                                       " must be a string of an integer within " +
                                       std::to_string(int(spec.lo)) + ".." +
                                       std::to_string(int(spec.hi)) + " " + spec.unit);
      values[key] = *text;
    }
    m->second.values = values;
    // Outside normal mode the meter holds the plant's export to feedinPower, shared by its
    // inverters.
    std::vector<Inverter*> plant;
    for (auto& inv : inverters_)
      if (inv->station_id == m->second.station_id) plant.push_back(inv.get());
    for (auto* inv : plant) {
      advance_locked(*inv, clock_.now());
      inv->meter_share_w = std::nullopt;
      if (*mode != "normal")
        inv->meter_share_w = std::stod(values["feedinPower"]) / double(plant.size());
      apply_controls_locked(*inv);
    }
    return Reply{};
  });
}

}  // namespace sb::foxess
