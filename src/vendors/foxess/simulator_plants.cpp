// The FoxESS simulator's power stations (list, detail, create, update, delete), data loggers and
// the account's access count.
#include <algorithm>
#include <cmath>

#include "vendors/foxess/simulator_detail.hpp"

namespace sb::foxess {

using namespace detail;

void Simulator::plant_routes(Routes& api) {
  // --- Power stations ---
  api.post_query("/op/v0/plant/list", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto p = paging(body, 0, why);
    if (!p) return error(kBodyInvalid, "request body parameters invalid: " + why);
    std::lock_guard lock(mutex_);
    return Reply{kSuccess, "success", page_of(options_.plants, *p, [](const SimPlant& pl) {
                   return json::object{{"stationID", pl.station_id},
                                       {"name", pl.name},
                                       {"ianaTimezone", zone_of(pl)}};
                 })};
  });
  api.get("/op/v0/plant/detail", [this](net::ServerRequest& req, const json::object&) {
    auto id = req.query["id"];
    std::lock_guard lock(mutex_);
    for (const auto& pl : options_.plants) {
      if (pl.station_id != id) continue;
      json::array modules;
      double capacity_w = 0;
      for (const auto& inv : inverters_)
        if (inv->station_id == id) {
          modules.push_back(json::object{{"moduleSN", inv->module_sn}, {"deviceSN", inv->cfg.sn}});
          for (const auto& s : inv->cfg.site.strings) capacity_w += s.peak_w;
        }
      auto start = inverters_.empty() ? clock_.now() : inverters_.front()->start;
      return Reply{kSuccess, "success",
                   json::object{{"stationName", pl.name},
                                {"country", pl.country},
                                {"city", pl.city},
                                {"address", pl.address},
                                {"createDate", std::to_string(to_ms(start) - 86'400'000LL * 1460)},
                                {"postcode", pl.postcode},
                                {"capacity", capacity_w / 1000},
                                {"timezone", zone_of(pl)},
                                {"user", json::object{{"name", options_.user_name},
                                                      {"email", options_.user_email},
                                                      {"phone", ""}}},
                                {"installer", json::object{{"name", "Sonnenschein Solar GmbH"},
                                                           {"email", "service@example.org"},
                                                           {"phone", "+49 30 1234567"}}},
                                {"modules", modules}}};
    }
    return error(kBodyInvalid, "request body parameters invalid: no station " +
                                   (id.empty() ? std::string("(id is required)") : id));
  });

  // --- Data loggers and the account ---
  api.post_query("/op/v0/module/list", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto p = paging(body, 1000, why);
    if (!p) return error(kBodyInvalid, "request body parameters invalid: " + why);
    std::lock_guard lock(mutex_);
    std::vector<const Inverter*> all;
    for (const auto& inv : inverters_) all.push_back(inv.get());
    return Reply{kSuccess, "success", page_of(all, *p, [](const Inverter* inv) {
                   return json::object{{"moduleSN", inv->module_sn},
                                       {"stationID", inv->station_id},
                                       {"status", 1},
                                       {"signal", 78}};
                 })};
  });
  api.get("/op/v0/user/getAccessCount", [this](net::ServerRequest&, const json::object&) {
    std::lock_guard lock(mutex_);
    auto q = quota_locked(clock_.now());
    return Reply{kSuccess, "success",
                 json::object{{"total", std::to_string(q.total)},
                              {"remaining", std::to_string(std::max(0, q.total - q.used))}}};
  });

  // --- Power stations: create, update, delete ---
  // Checks a create/update body's details; fills `plant`. Module SNs in `devices` that belong
  // to this account move their inverter to the plant; others get a non-zero errno each.
  auto plant_body = [](const json::object& body, SimPlant& plant, bool update) -> Reply {
    auto d = body.if_contains("details");
    if (!d || !d->is_object())
      return error(kBodyInvalid, "request body parameters invalid: details is required");
    const auto& details = d->as_object();
    if (update) {
      auto id = string_field(details, "stationID");
      if (!id || id->empty())
        return error(kBodyInvalid,
                     "request body parameters invalid: details.stationID is required");
    }
    for (const char* key : {"name", "countryCode", "city", "address", "postcode"}) {
      auto v = string_field(details, key);
      if (!v || v->empty())
        return error(kBodyInvalid, std::string("request body parameters invalid: details.") + key +
                                       " is required (a string)");
    }
    auto type = int_field(details, "type");
    if (!type || *type < 1 || *type > 4)
      return error(kBodyInvalid,
                   "request body parameters invalid: details.type must be 1 (PV), 2 (energy "
                   "storage), 3 (charge pile) or 4 (mini device)");
    auto country = *string_field(details, "countryCode");
    if (country.size() != 2 || !std::isupper(static_cast<unsigned char>(country[0])) ||
        !std::isupper(static_cast<unsigned char>(country[1])))
      return error(kBodyInvalid,
                   "request body parameters invalid: details.countryCode must be ISO 3166-1 "
                   "alpha-2 (e.g. DE)");
    auto zone = string_field(body, "timezone").value_or("");
    try {
      Calendar check(zone);
    } catch (const std::exception&) {
      return error(kBodyInvalid, "request body parameters invalid: timezone '" + zone +
                                     "' is not an IANA zone (e.g. Europe/Berlin)");
    }
    plant.name = *string_field(details, "name");
    plant.country = country;
    plant.city = *string_field(details, "city");
    plant.address = *string_field(details, "address");
    plant.postcode = *string_field(details, "postcode");
    plant.timezone = zone;
    return Reply{};
  };
  auto attach = [this](const json::object& body, const std::string& station_id,
                       const std::string& name) {
    json::array results;
    auto devs = body.if_contains("devices");
    if (!devs || !devs->is_array()) return results;
    for (const auto& d : devs->as_array()) {
      auto sn = d.is_object() ? string_field(d.as_object(), "sn").value_or("") : "";
      auto key = d.is_object() ? string_field(d.as_object(), "key").value_or("") : "";
      Inverter* found = nullptr;
      for (auto& inv : inverters_)
        if (inv->module_sn == sn) found = inv.get();
      if (found) {
        found->station_id = station_id;
        found->station_name = name;
      }
      results.push_back(json::object{{"device", json::object{}},
                                     {"sn", sn},
                                     {"key", key},
                                     {"errno", found ? 0 : kBodyInvalid}});
    }
    return results;
  };
  api.post_write("/op/v0/plant/create", [this, plant_body, attach](net::ServerRequest&,
                                                                   const json::object& body) {
    SimPlant plant;
    if (auto r = plant_body(body, plant, false); r.err != kSuccess) return r;
    std::lock_guard lock(mutex_);
    char id[40];
    std::snprintf(id, sizeof id, "7a1e%04x-5c2d-4e8f-a1b2-%012llx", ++plants_made_,
                  static_cast<unsigned long long>(to_ms(clock_.now())));
    plant.station_id = id;
    options_.plants.push_back(plant);
    auto devices = attach(body, plant.station_id, plant.name);
    return Reply{kSuccess, "success",
                 json::object{{"stationID", plant.station_id}, {"devices", devices}}};
  });
  api.post_write("/op/v0/plant/update", [this, plant_body, attach](net::ServerRequest&,
                                                                   const json::object& body) {
    SimPlant given;
    if (auto r = plant_body(body, given, true); r.err != kSuccess) return r;
    auto id = *string_field(body.at("details").as_object(), "stationID");
    std::lock_guard lock(mutex_);
    for (auto& pl : options_.plants) {
      if (pl.station_id != id) continue;
      given.station_id = id;
      given.meter_sn = pl.meter_sn;
      given.inverters = std::move(pl.inverters);
      pl = std::move(given);
      for (auto& inv : inverters_)
        if (inv->station_id == id) inv->station_name = pl.name;
      auto devices = attach(body, id, pl.name);
      return Reply{kSuccess, "success", json::object{{"stationID", id}, {"devices", devices}}};
    }
    return error(kBodyInvalid, "request body parameters invalid: no station " + id);
  });
  api.post_write("/op/v0/plant/delete", [this](net::ServerRequest&, const json::object& body) {
    auto id = string_field(body, "stationID").value_or("");
    if (id.empty())
      return error(kBodyInvalid, "request body parameters invalid: stationID is required");
    std::lock_guard lock(mutex_);
    auto it = std::find_if(options_.plants.begin(), options_.plants.end(),
                           [&](const SimPlant& p) { return p.station_id == id; });
    if (it == options_.plants.end())
      return error(kBodyInvalid, "request body parameters invalid: no station " + id);
    // A deleted station's inverters and meter leave the account (they are unbound).
    options_.plants.erase(it);
    std::erase_if(inverters_, [&](const auto& inv) { return inv->station_id == id; });
    std::erase_if(meters_, [&](const auto& m) { return m.second.station_id == id; });
    return Reply{kSuccess, "success", nullptr};
  });
}

}  // namespace sb::foxess
