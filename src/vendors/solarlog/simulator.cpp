#include "vendors/solarlog/simulator.hpp"

#include <boost/json.hpp>
#include <cstdio>

#include "net/crypto.hpp"
#include "net/json.hpp"
#include "sim/http_faults.hpp"
#include "sim/oauth.hpp"

namespace sb::solarlog {

namespace json = boost::json;
using namespace std::chrono;

std::string_view to_string(Package p) {
  switch (p) {
    case Package::UserBasic:
      return "user-basic";
    case Package::UserAdvanced:
      return "user-advanced";
    case Package::PortalBasic:
      return "portal-basic";
    case Package::PortalAdvanced:
      return "portal-advanced";
  }
  return "user-basic";
}

namespace {

// A GUID from a seed, stable across runs.
std::string guid(std::uint64_t seed) {
  char buf[40];
  std::uint64_t a = seed * 0x9E3779B97F4A7C15ull, b = (seed + 7) * 0xC2B2AE3D27D4EB4Full;
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-a%03llx-%012llx",
                static_cast<unsigned long long>(a >> 32),
                static_cast<unsigned long long>((a >> 16) & 0xffff),
                static_cast<unsigned long long>(a & 0xfff),
                static_cast<unsigned long long>((b >> 52) & 0xfff),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

std::int64_t epoch_s(TimePoint t) {
  return duration_cast<seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::vector<SimPlant> make_plants(int n, std::uint64_t seed) {
  struct Place {
    const char *city, *postal, *street, *country, *zone;
    double lat, lon;
  };
  static const Place places[] = {
      {"Freiburg", "79098", "Kaiser-Joseph-Strasse", "DE", "Europe/Berlin", 47.99, 7.85},
      {"Regensburg", "93047", "Maximilianstrasse", "DE", "Europe/Berlin", 49.01, 12.10},
      {"Linz", "4020", "Landstrasse", "AT", "Europe/Vienna", 48.31, 14.29},
      {"Kassel", "34117", "Koenigsstrasse", "DE", "Europe/Berlin", 51.31, 9.48}};
  std::vector<SimPlant> out;
  for (int i = 0; i < n; ++i) {
    const auto& p = places[i % 4];
    SimPlant s;
    s.id = guid(seed * 1000 + static_cast<std::uint64_t>(i) + 1);
    s.ffuf_id = 40'000 + 13 * (i + 1) + static_cast<int>(seed % 100);
    s.name = std::string("PV ") + p.city + (i >= 4 ? " " + std::to_string(i) : "");
    s.street = p.street;
    s.house_number = std::to_string(3 + 2 * i);
    s.postal_code = p.postal;
    s.city = p.city;
    s.country = p.country;
    s.fleet = i % 2 == 0 ? "fleet-south" : "fleet-north";
    s.inverters = 1 + i % 2;
    s.battery = i % 3 != 2;
    s.ev_charger = i == 0;
    s.installed_days = 500 + 120 * i;
    s.contacts = {{"Anna", "Berger", "", "anna.berger" + std::to_string(i) + "@example.org",
                   "+49 761 555 01" + std::to_string(10 + i), "owner"},
                  {"Jonas", "Keller", "Solar Installations GmbH", "service@example.org",
                   "+49 761 555 0200", "installer"}};
    s.site.latitude = p.lat;
    s.site.longitude = p.lon;
    s.site.timezone = p.zone;
    s.site.seed = seed + static_cast<std::uint64_t>(i);
    if (!s.battery) s.site.battery.max_charge_w = s.site.battery.max_discharge_w = 0;
    out.push_back(std::move(s));
  }
  return out;
}

Simulator::Simulator(boost::asio::any_io_executor executor, const Clock& clock, SimOptions options,
                     sim::FaultSpec faults)
    : sim::HttpSimulator(executor, faults),
      clock_(clock),
      started_(time_point_cast<seconds>(clock.now())),
      options_(std::move(options)) {
  if (options_.plants.empty()) options_.plants = make_plants(4);
  if (options_.fleets.empty())
    for (const auto& p : options_.plants)
      if (!p.fleet.empty() && std::none_of(options_.fleets.begin(), options_.fleets.end(),
                                           [&](const SimFleet& f) { return f.id == p.fleet; }))
        options_.fleets.push_back(
            {p.fleet, p.fleet == "fleet-south" ? "Fleet South" : "Fleet " + p.fleet});
  if (options_.clients.empty()) {
    std::vector<std::string> ids;
    for (const auto& p : options_.plants) ids.push_back(p.id);
    auto first = [&](std::size_t n) {
      return std::vector<std::string>(ids.begin(), ids.begin() + std::min(n, ids.size()));
    };
    options_.clients = {{"user-basic", "user-basic-secret", Package::UserBasic, first(2)},
                        {"user-advanced", "user-advanced-secret", Package::UserAdvanced, first(3)},
                        {"portal-basic", "portal-basic-secret", Package::PortalBasic, {}},
                        {"portal-advanced", "portal-advanced-secret", Package::PortalAdvanced, {}}};
  }
  for (const auto& p : options_.plants)
    models_.push_back(std::make_unique<PlantModel>(p, started_));
}

Simulator::~Simulator() {
  stop();
}

void Simulator::expire_all_tokens() {
  std::lock_guard lock(mutex_);
  tokens_.clear();
}

const SimPlant* Simulator::plant(const std::string& id) const {
  for (const auto& p : options_.plants)
    if (p.id == id) return &p;
  return nullptr;
}

bool Simulator::may_see(const SimClient& c, const SimPlant& p) const {
  return is_portal(c.package) ||
         std::find(c.plants.begin(), c.plants.end(), p.id) != c.plants.end();
}

// Decision (nothing public on error bodies): the Spring Boot error body a Java service behind
// Keycloak sends, with the request's path.
net::ServerResponse Simulator::api_error(int status, const char* error, std::string message,
                                         const std::string& path) const {
  return net::ServerResponse::json(
      status, net::to_json(json::object{{"timestamp", format_iso8601(clock_.now())},
                                        {"status", status},
                                        {"error", error},
                                        {"message", std::move(message)},
                                        {"path", path}}));
}

PlantModel* Simulator::model(const std::string& id) {
  for (std::size_t i = 0; i < options_.plants.size(); ++i)
    if (options_.plants[i].id == id) return models_[i].get();
  return nullptr;
}

void Simulator::malform_next(int n) {
  std::lock_guard lock(mutex_);
  malform_ = n;
}

void Simulator::fail_next(int n) {
  std::lock_guard lock(mutex_);
  fail_ = n;
}

// The plant in the path: 404 unknown, 403 not assigned to this user (decision: the same answer
// would hide that it exists; a 403 tells a user why, which support needs more).
net::ServerResponse Simulator::with_plant(net::ServerRequest& req, const SimClient& c,
                                          const PlantHandler& f) {
  auto* p = plant(req.params["plantId"]);
  if (!p)
    return api_error(404, "Not Found", "Plant " + req.params["plantId"] + " not found", req.path);
  if (!may_see(c, *p))
    return api_error(403, "Forbidden",
                     "Plant " + p->id + " is not assigned to client " + c.client_id, req.path);
  std::lock_guard lock(mutex_);
  return f(req, c, *p, *model(p->id));
}

const SimClient* Simulator::caller(const net::ServerRequest& req, net::ServerResponse& refusal) {
  auto now = clock_.now();
  auto auth = req.header("Authorization");
  std::lock_guard lock(mutex_);
  const Token* t = nullptr;
  if (auth.starts_with("Bearer "))
    if (auto it = tokens_.find(std::string(auth.substr(7))); it != tokens_.end()) t = &it->second;
  if (!t || auth_clock().now() >= t->expires) {
    refusal = api_error(401, "Unauthorized",
                        !t ? "Full authentication is required to access this resource"
                           : "The access token has expired",
                        req.path);
    refusal.headers.emplace_back(
        "WWW-Authenticate",
        !t ? "Bearer realm=\"quotaapi\"" : "Bearer realm=\"quotaapi\", error=\"invalid_token\"");
    return nullptr;
  }
  const SimClient* c = nullptr;
  for (const auto& x : options_.clients)
    if (x.client_id == t->client_id) c = &x;
  if (!c) {
    refusal = api_error(401, "Unauthorized", "The client no longer exists", req.path);
    return nullptr;
  }
  // The quota (decision): a fixed clock minute per client; a refused call is not counted.
  auto minute = epoch_s(now) / 60;
  auto& [m, calls] = minute_[c->client_id];
  if (m != minute) m = minute, calls = 0;
  if (calls >= options_.per_minute) {
    ++over_limit_;
    refusal = api_error(429, "Too Many Requests",
                        "Quota of " + std::to_string(options_.per_minute) +
                            " calls a minute exceeded for client " + c->client_id,
                        req.path);
    refusal.headers.emplace_back("Retry-After", std::to_string((minute + 1) * 60 - epoch_s(now)));
    return nullptr;
  }
  ++calls;
  return c;
}

std::shared_ptr<net::Router> Simulator::routes() {
  auto r = std::make_shared<net::Router>();
  using Handler = std::function<net::ServerResponse(net::ServerRequest&)>;
  auto wrap = [this](Handler h) {
    return sim::with_faults(http_->gate(), faults_, requests_,
                            {[this] {
                               return api_error(503, "Service Unavailable",
                                                "The service is temporarily unavailable",
                                                "/api/v1/" + options_.portal);
                             },
                             {}},
                            h);
  };
  // Keycloak's token endpoint (realm quotaapi), client credentials in the form or Basic.
  r->post("/auth/realms/quotaapi/protocol/openid-connect/token",
          wrap([this](net::ServerRequest& req) {
            auto p = sim::oauth_params(req);
            if (auto basic = sim::basic_client(req))
              p["client_id"] = basic->first, p["client_secret"] = basic->second;
            if (p["grant_type"] != "client_credentials")
              return sim::oauth_error(400, "unsupported_grant_type", "Unsupported grant_type");
            const SimClient* c = nullptr;
            for (const auto& x : options_.clients)
              if (x.client_id == p["client_id"] && x.client_secret == p["client_secret"]) c = &x;
            if (!c)
              return sim::oauth_error(401, "unauthorized_client",
                                      "Invalid client or Invalid client credentials");
            std::lock_guard lock(mutex_);
            auto token = "eyJhbGciOiJSUzI1NiJ9." + crypto::hex(crypto::random_bytes(12)) +
                         std::to_string(++serial_);
            tokens_[token] = {c->client_id, auth_clock().now() + options_.token_life};
            return net::ServerResponse::json(
                200, net::to_json(json::object{{"access_token", token},
                                               {"expires_in", options_.token_life.count()},
                                               {"refresh_expires_in", 0},
                                               {"token_type", "Bearer"},
                                               {"not-before-policy", 0},
                                               {"scope", "profile email"}}));
          }));

  // Every API call: the portal in the path, then the token and the quota; then the faults
  // that a test asks for by count.
  auto api = [this, wrap](ApiHandler h) {
    return wrap([this, h](net::ServerRequest& req) {
      if (req.params["portal"] != options_.portal)
        return api_error(404, "Not Found", "No portal '" + req.params["portal"] + "'", req.path);
      {
        std::lock_guard lock(mutex_);
        if (fail_ > 0) {
          --fail_;
          return api_error(503, "Service Unavailable", "The service is temporarily unavailable",
                           req.path);
        }
      }
      net::ServerResponse refusal;
      auto* c = caller(req, refusal);
      if (!c) return refusal;
      auto res = h(req, *c);
      std::lock_guard lock(mutex_);
      if (malform_ > 0 && res.status == 200) {
        --malform_;
        res.body.resize(res.body.size() / 2);
      }
      return res;
    });
  };
  auto address_json = [](const SimPlant& p) {
    return json::object{
        {"id", p.ffuf_id * 10 + 1},    {"street", p.street}, {"houseNumber", p.house_number},
        {"postalCode", p.postal_code}, {"city", p.city},     {"country", p.country}};
  };
  auto plant_json = [this, address_json](const SimPlant& p) {
    auto iso = format_iso8601(model(p.id)->installed());
    // "2024-04-12T09:30:00.000Z" -> "2024-04-12T09:30:00+00:00", as the documented objects are.
    auto offset = iso.substr(0, 19) + "+00:00";
    std::string label = std::to_string(p.inverters) + "x Inverter, " + std::to_string(p.meters) +
                        "x Meter" + (p.battery ? ", 1x Battery" : "") +
                        (p.ev_charger ? ", 1x EV Charger" : "");
    json::array types{"Inverter", "SolarLogIntern", "SolarLogPowerManagement", "Meter"};
    if (p.battery) types.push_back("Battery");
    if (p.ev_charger) types.push_back("EVCharger");
    double size = 0;
    for (const auto& s : p.site.strings) size += s.peak_w;
    auto last = format_iso8601(from_ms(epoch_s(clock_.now()) / 300 * 300 * 1000));
    return json::object{
        {"id", p.id},
        {"ffufId", p.ffuf_id},
        {"name", p.name},
        {"label", label},
        {"plantSize", std::llround(size)},
        {"plantStatus", "active"},
        {"createdAt", offset},
        {"installationDate", offset},
        {"functionalities", json::array{}},
        {"firmware", "6.1.0 Build 163"},
        {"firmwareDate", "12.04.2024"},
        {"firmwareVersion", "V06.01.00-163-20240412"},
        {"deviceFullName", "Solar-Log Base 15"},
        {"vendor", "SDS"},
        {"identifier", "SL" + std::to_string(p.ffuf_id)},
        {"lastDataTransfer", json::object{{"lastTransfer", last.substr(0, 19) + "+00:00"},
                                          {"lastTransferType", "HTTP"}}},
        {"plantCost", 12'500},
        {"electricityCost", 0.32},
        {"package", "XL"},
        {"configStatus", "OK"},
        {"fleetCount", p.fleet.empty() ? 0 : 1},
        {"latitude", p.site.latitude},
        {"longitude", p.site.longitude},
        {"timezone", p.site.timezone},
        {"address", address_json(p)},
        {"plantCreator", "installer@example.org"},
        {"crcVersion", "1.0"},
        {"componentsClasses", json::array{"production", "hidden", "intern"}},
        {"componentsTypes", std::move(types)}};
  };
  auto ok = [](const json::value& v) { return net::ServerResponse::json(200, net::to_json(v)); };
  const std::string base = "/api/v1/{portal}/administration/";

  r->get(base + "plants", api([this, plant_json, ok](net::ServerRequest&, const SimClient& c) {
           json::array list;
           for (const auto& p : options_.plants)
             if (may_see(c, p)) list.push_back(plant_json(p));
           return ok(list);
         }));
  // The documented singular form (User API Basic page) and the plural one the address and
  // contacts calls extend (inferred): the same answer.
  for (const char* form : {"plant/{plantId}", "plants/{plantId}"})
    r->get(base + form, api([this, plant_json, ok](net::ServerRequest& req, const SimClient& c) {
             return with_plant(
                 req, c, [&](auto&, auto&, const SimPlant& p, auto&) { return ok(plant_json(p)); });
           }));
  r->get(base + "plants/{plantId}/address",
         api([this, address_json, ok](net::ServerRequest& req, const SimClient& c) {
           return with_plant(
               req, c, [&](auto&, auto&, const SimPlant& p, auto&) { return ok(address_json(p)); });
         }));
  r->get(base + "plants/{plantId}/contacts",
         api([this, address_json, ok](net::ServerRequest& req, const SimClient& c) {
           return with_plant(req, c, [&](auto&, auto&, const SimPlant& p, auto&) {
             json::array list;
             int n = 0;
             for (const auto& x : p.contacts)
               list.push_back(json::object{{"id", p.ffuf_id * 10 + 2 + n++},
                                           {"lastName", x.last_name},
                                           {"firstName", x.first_name},
                                           {"company", x.company},
                                           {"email", x.email},
                                           {"phoneNumber", x.phone},
                                           {"mobilePhoneNumber", ""},
                                           {"address", address_json(p)},
                                           {"comment", ""},
                                           {"role", x.role}});
             return ok(list);
           });
         }));
  // Fleets: the Portal API only (the feature matrix: no fleets in either User API package).
  auto fleet_json = [this](const SimFleet& f) {
    json::array plants;
    for (const auto& p : options_.plants)
      if (p.fleet == f.id) plants.push_back(json::value(p.id));
    return json::object{{"id", f.id}, {"name", f.name}, {"plantIds", std::move(plants)}};
  };
  auto portal_only = [this](const net::ServerRequest& req,
                            const SimClient& c) -> std::optional<net::ServerResponse> {
    if (is_portal(c.package)) return std::nullopt;
    return api_error(403, "Forbidden",
                     "Fleets are part of the Portal API; client " + c.client_id + " has the " +
                         std::string(to_string(c.package)) + " package",
                     req.path);
  };
  r->get(base + "fleets",
         api([this, fleet_json, portal_only, ok](net::ServerRequest& req, const SimClient& c) {
           if (auto no = portal_only(req, c)) return *no;
           json::array list;
           for (const auto& f : options_.fleets) list.push_back(fleet_json(f));
           return ok(list);
         }));
  r->get(base + "fleet/{fleetId}",
         api([this, fleet_json, portal_only, ok](net::ServerRequest& req, const SimClient& c) {
           if (auto no = portal_only(req, c)) return *no;
           for (const auto& f : options_.fleets)
             if (f.id == req.params["fleetId"]) return ok(fleet_json(f));
           return api_error(404, "Not Found", "Fleet " + req.params["fleetId"] + " not found",
                            req.path);
         }));
  add_data_routes(*r, api);
  sim::set_fallbacks(
      *r, http_->gate(), requests_,
      [this] {
        return api_error(404, "Not Found", "No such resource", "/api/v1/" + options_.portal);
      },
      [this] {
        return api_error(405, "Method Not Allowed", "Request method not supported",
                         "/api/v1/" + options_.portal);
      });
  return r;
}

}  // namespace sb::solarlog
