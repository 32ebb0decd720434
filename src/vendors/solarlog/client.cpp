#include "vendors/solarlog/client.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "net/http_client.hpp"
#include "net/json.hpp"
#include "net/token_file.hpp"

namespace sb::solarlog {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono;

namespace {

std::string str(const json::object& o, std::string_view key) {
  return net::field_text(o, key);
}
// A KPI: a number, or nothing when the portal has none (null, absent, or not a number).
std::optional<double> opt_num(net::FieldReader& f, const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  auto d = v ? net::as_double(*v) : std::nullopt;
  if (d) return f.finite(*d, key);
  return std::nullopt;
}
std::optional<TimePoint> time_of(const json::object& o, std::string_view key) {
  TimePoint t;
  auto s = str(o, key);
  if (s.empty() || !parse_iso8601(s, t)) return std::nullopt;
  return t;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}
std::string joined(const std::vector<std::int64_t>& v) {
  std::string out;
  for (auto n : v) out += (out.empty() ? "" : ",") + std::to_string(n);
  return out;
}

Result<PlantInfo> plant_of(const json::value& v, const std::string& what) {
  if (!v.is_object() || str(v.as_object(), "id").empty())
    return fail(ErrorKind::Protocol, what + ": a plant without an id");
  const auto& o = v.as_object();
  PlantInfo p;
  p.id = str(o, "id");
  p.name = str(o, "name");
  p.label = str(o, "label");
  p.timezone = str(o, "timezone");
  p.firmware = str(o, "firmwareVersion");
  p.device = str(o, "deviceFullName");
  p.package = str(o, "package");
  net::FieldReader f(what);
  p.size_w = f.number(o, "plantSize");
  p.installed = time_of(o, "installationDate");
  if (auto t = o.if_contains("lastDataTransfer"); t && t->is_object())
    p.last_transfer = time_of(t->as_object(), "lastTransfer");
  if (auto t = o.if_contains("componentsTypes"); t && t->is_array())
    for (const auto& x : t->as_array())
      if (x.is_string()) p.component_types.emplace_back(x.as_string());
  return f.result(std::move(p));
}

Result<FleetInfo> fleet_of(const json::value& v, const std::string& what) {
  if (!v.is_object()) return fail(ErrorKind::Protocol, what + ": a fleet is not an object");
  FleetInfo f{str(v.as_object(), "id"), str(v.as_object(), "name"), {}};
  if (auto ids = v.as_object().if_contains("plantIds"); ids && ids->is_array())
    for (const auto& x : ids->as_array())
      if (x.is_string()) f.plants.emplace_back(x.as_string());
  return f;
}

// A list answer: an array, each element through `f`.
template <class T, class F>
Result<std::vector<T>> list_of(const std::string& body, const std::string& what, F f) {
  auto doc = net::parse_json(body, what);
  if (!doc) return fail(doc.error());
  if (!doc->is_array()) return fail(ErrorKind::Protocol, what + ": the answer is not a list");
  std::vector<T> out;
  for (const auto& v : doc->as_array()) {
    auto x = f(v, what);
    if (!x) return fail(x.error());
    out.push_back(std::move(*x));
  }
  return out;
}

// What the portal said (the Spring Boot body), for an error message.
std::string said(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::string(body.substr(0, 120));
  auto m = str(v.as_object(), "message");
  return m.empty() ? str(v.as_object(), "error") : m;
}

}  // namespace

Client::Client(net::HttpClient& http, ClientConfig config, const Clock& clock)
    : http_(http), config_(std::move(config)), clock_(clock) {}

asio::awaitable<Result<void>> Client::sign_in() {
  net::HttpRequest req;
  req.method = "POST";
  req.target = "/auth/realms/quotaapi/protocol/openid-connect/token";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = "grant_type=client_credentials&client_id=" + net::url_encode(config_.client_id) +
             "&client_secret=" + net::url_encode(config_.client_secret);
  req.timeout = config_.timeout;
  auto op = http_.request(config_.auth, std::move(req));
  auto res = co_await std::move(op);
  if (!res)
    co_return fail(res.error().kind,
                   "Solar-Log token endpoint " + config_.auth.str() + ": " + res.error().message);
  auto t = net::parse_token_answer(res->status, res->body,
                                   "Solar-Log token for client " + config_.client_id);
  if (!t) co_return fail(t.error());
  token_ = t->access_token;
  auto life = t->expires_in.count() > 0 ? t->expires_in : seconds(300);
  expires_ = clock_.now() + life;
  co_return Result<void>{};
}

asio::awaitable<Result<std::string>> Client::get(std::string path, std::string what) {
  for (int attempt = 0;; ++attempt) {
    // Renewed half a minute before it runs out, so that no call goes with a dying token.
    if (token_.empty() || !expires_ || clock_.now() + seconds(30) >= *expires_) {
      auto op = sign_in();
      if (auto s = co_await std::move(op); !s) co_return fail(s.error());
    }
    net::HttpRequest req;
    req.target = "/api/v1/" + config_.portal + "/" + path;
    req.headers = {{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}};
    req.timeout = config_.timeout;
    ++calls_;
    auto op = http_.request(config_.api, std::move(req));
    auto res = co_await std::move(op);
    if (!res) co_return fail(res.error().kind, what + ": " + res.error().message);
    if (res->status == 200) co_return std::move(res->body);
    auto text = what + ": HTTP " + std::to_string(res->status) + " " + said(res->body);
    if (res->status == 401 && attempt == 0) {  // expired early or revoked: one new token
      token_.clear();
      continue;
    }
    if (res->status == 401) co_return fail(ErrorKind::Auth, text);
    if (res->status == 403) co_return fail(ErrorKind::NotSupported, text);
    if (res->status == 404) co_return fail(ErrorKind::NotFound, text);
    if (res->status == 429) {
      Error e{ErrorKind::RateLimited, text};
      auto after = std::string(res->header("Retry-After"));
      e.retry_after = seconds(after.empty() ? 60 : std::max(1, std::atoi(after.c_str())));
      co_return fail(std::move(e));
    }
    if (res->status >= 500) co_return fail(ErrorKind::Transport, text);
    co_return fail(ErrorKind::Protocol, text);
  }
}

template <class T, class Parse>
asio::awaitable<Result<std::vector<T>>> Client::list(std::string path, std::string what,
                                                     Parse parse) {
  auto op = get(std::move(path), what);
  auto body = co_await std::move(op);
  if (!body) co_return fail(body.error());
  co_return list_of<T>(*body, what, parse);
}

template <class T, class Parse>
asio::awaitable<Result<T>> Client::one(std::string path, std::string what, Parse parse) {
  auto op = get(std::move(path), what);
  auto body = co_await std::move(op);
  if (!body) co_return fail(body.error());
  auto doc = net::parse_json(*body, what);
  if (!doc) co_return fail(doc.error());
  co_return parse(*doc, what);
}

asio::awaitable<Result<std::vector<PlantInfo>>> Client::plants() {
  auto op = list<PlantInfo>("administration/plants", "Solar-Log plants", plant_of);
  co_return co_await std::move(op);
}

asio::awaitable<Result<PlantInfo>> Client::plant(std::string id) {
  auto op = one<PlantInfo>("administration/plant/" + id, "Solar-Log plant " + id, plant_of);
  co_return co_await std::move(op);
}

asio::awaitable<Result<PlantAddress>> Client::address(std::string plant) {
  auto op = one<PlantAddress>(
      "administration/plants/" + plant + "/address", "Solar-Log address of plant " + plant,
      [](const json::value& v, const std::string& w) -> Result<PlantAddress> {
        if (!v.is_object()) return fail(ErrorKind::Protocol, w + ": the answer is not an object");
        const auto& o = v.as_object();
        return PlantAddress{str(o, "street"), str(o, "houseNumber"), str(o, "postalCode"),
                            str(o, "city"), str(o, "country")};
      });
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<FleetInfo>>> Client::fleets() {
  auto op = list<FleetInfo>("administration/fleets", "Solar-Log fleets", fleet_of);
  co_return co_await std::move(op);
}

asio::awaitable<Result<FleetInfo>> Client::fleet(std::string id) {
  auto op = one<FleetInfo>("administration/fleet/" + id, "Solar-Log fleet " + id, fleet_of);
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<ComponentInfo>>> Client::components(std::string plant,
                                                                       std::string date) {
  auto op = list<ComponentInfo>(
      "datasource/plant/" + plant + "/components/" + date,
      "Solar-Log components of plant " + plant + " on " + date,
      [](const json::value& v, const std::string& w) -> Result<ComponentInfo> {
        if (!v.is_object() || !v.as_object().contains("crossEpochId"))
          return fail(ErrorKind::Protocol, w + ": a component without a crossEpochId");
        const auto& o = v.as_object();
        net::FieldReader f(w);
        ComponentInfo c;
        c.id = f.integer(o, "crossEpochId");
        c.name = str(o, "name");
        c.type = str(o, "type");
        c.subtype = !str(o, "meterType").empty() ? str(o, "meterType") : str(o, "sensorType");
        c.manufacturer = str(o, "manufacturer");
        c.model = str(o, "model");
        c.serial = str(o, "serialNumber");
        c.parent = f.integer(o, "parentCrossEpochId");
        c.rated_w = f.number(o, "ratedPower");
        return f.result(std::move(c));
      });
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<Series>>> Client::series(std::string path, std::string what) {
  auto op = list<Series>(
      std::move(path), std::move(what),
      [](const json::value& v, const std::string& w) -> Result<Series> {
        if (!v.is_object()) return fail(ErrorKind::Protocol, w + ": a channel is not an object");
        const auto& o = v.as_object();
        auto points = o.if_contains("dataPoints");
        if (str(o, "name").empty() || !points || !points->is_array())
          return fail(ErrorKind::Protocol, w + ": a channel without name or dataPoints");
        Series s{str(o, "name"), str(o, "date"), str(o, "resolution"), str(o, "unit"), {}, {}};
        net::FieldReader f(w);
        if (o.contains("componentId")) s.component = f.integer(o, "componentId");
        for (const auto& p : points->as_array()) {
          if (p.is_null()) {
            s.points.emplace_back(std::nullopt);
            continue;
          }
          auto d = net::as_double(p);
          if (!d || !std::isfinite(*d))
            return fail(ErrorKind::Protocol,
                        w + ": channel " + s.name + " has a value that is not a number");
          s.points.emplace_back(*d);
        }
        return f.result(std::move(s));
      });
  co_return co_await std::move(op);
}

namespace {
std::string query(const std::vector<std::string>& channels,
                  const std::vector<std::int64_t>& components, const char* key = "xComponentIds") {
  auto q = "channelNames=" + joined(channels);
  if (!components.empty()) q += std::string("&") + key + "=" + joined(components);
  return q;
}
}  // namespace

asio::awaitable<Result<std::vector<Series>>> Client::day(std::string plant, std::string date,
                                                         std::vector<std::string> channels,
                                                         std::vector<std::int64_t> components) {
  // YYYY-MM-DD -> year/Y/month/M/day/D, without leading zeros as the client's month call.
  auto y = date.substr(0, 4), m = std::to_string(std::atoi(date.substr(5, 2).c_str())),
       d = std::to_string(std::atoi(date.substr(8, 2).c_str()));
  auto op = series("visualization/plant/" + plant + "/year/" + y + "/month/" + m + "/day/" + d +
                       "?" + query(channels, components),
                   "Solar-Log values of plant " + plant + " on " + date);
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<Series>>> Client::month(std::string plant, int year, int month,
                                                           std::vector<std::string> channels,
                                                           std::vector<std::int64_t> components) {
  auto op = series("visualization/plant/" + plant + "/year/" + std::to_string(year) + "/month/" +
                       std::to_string(month) + "?" + query(channels, components),
                   "Solar-Log values of plant " + plant + " in " + std::to_string(year) + "-" +
                       std::to_string(month));
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<Series>>> Client::year(std::string plant, int year,
                                                          std::vector<std::string> channels,
                                                          std::vector<std::int64_t> components) {
  auto op = series("visualization/plant/" + plant + "/year/" + std::to_string(year) + "?" +
                       query(channels, components),
                   "Solar-Log values of plant " + plant + " in " + std::to_string(year));
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<Series>>> Client::lifetime(
    std::string plant, std::vector<std::string> channels, std::vector<std::int64_t> components) {
  auto op = series("visualization/plant/" + plant + "/lifetime?" + query(channels, components),
                   "Solar-Log lifetime values of plant " + plant);
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<Series>>> Client::range(std::string plant, std::string from,
                                                           std::string to,
                                                           std::vector<std::string> channels,
                                                           std::vector<std::int64_t> trackers) {
  auto op = series("visualization/plant/" + plant + "/channels?dateFrom=" + from + "&dateTo=" + to +
                       "&" + query(channels, trackers, "mppTrackerIds"),
                   "Solar-Log values of plant " + plant + " from " + from + " to " + to);
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<Series>>> Client::cross_epoch(
    std::string plant, std::vector<std::int64_t> components, std::vector<std::string> channels,
    std::string from, std::string to) {
  auto op = series("visualization/plant/" + plant + "/cross-epoch/channels?dateFrom=" + from +
                       "&dateTo=" + to + "&" + query(channels, components),
                   "Solar-Log component values of plant " + plant + " from " + from + " to " + to);
  co_return co_await std::move(op);
}

asio::awaitable<Result<Kpis>> Client::kpis(std::string plant, std::string from, std::string to) {
  auto op = one<Kpis>("visualization/plant/" + plant + "/kpis?dateFrom=" + from + "&dateTo=" + to,
                      "Solar-Log KPIs of plant " + plant,
                      [](const json::value& v, const std::string& w) -> Result<Kpis> {
                        if (!v.is_object())
                          return fail(ErrorKind::Protocol, w + ": the answer is not an object");
                        const auto& o = v.as_object();
                        net::FieldReader f(w);
                        Kpis k{opt_num(f, o, "specificYield"),   opt_num(f, o, "performanceRatio"),
                               opt_num(f, o, "availability"),    opt_num(f, o, "autarky"),
                               opt_num(f, o, "selfConsumption"), f.number(o, "production"),
                               f.number(o, "consumption")};
                        return f.result(k);
                      });
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<PortalEvent>>> Client::events(std::string plant,
                                                                 std::string from, std::string to) {
  auto op =
      list<PortalEvent>("datasource/plant/" + plant + "/events?dateFrom=" + from + "&dateTo=" + to,
                        "Solar-Log events of plant " + plant,
                        [](const json::value& v, const std::string& w) -> Result<PortalEvent> {
                          if (!v.is_object())
                            return fail(ErrorKind::Protocol, w + ": an event is not an object");
                          const auto& o = v.as_object();
                          auto start = time_of(o, "start");
                          if (!start)
                            return fail(ErrorKind::Protocol, w + ": an event without a start time");
                          net::FieldReader f(w);
                          PortalEvent e{f.integer(o, "id"),      f.integer(o, "componentId"),
                                        str(o, "componentName"), str(o, "componentType"),
                                        str(o, "severity"),      str(o, "code"),
                                        str(o, "message"),       *start,
                                        time_of(o, "end")};
                          return f.result(std::move(e));
                        });
  co_return co_await std::move(op);
}

}  // namespace sb::solarlog
