// The Enphase Monitoring API v4 client: one method per operation the driver uses (about 40),
// each decoding its body into the wire types. Longer than ~700 lines on purpose: the operations
// share the credentials, the error bodies and the 429 quota fields handled here, and splitting
// them by tag would spread that one request path over several files.
#include "vendors/enphase/client.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <sstream>

#include "net/crypto.hpp"
#include "net/http_client.hpp"
#include "net/json.hpp"

namespace sb::enphase {

namespace json = boost::json;

namespace {

// Numbers through a FieldReader: a non-finite value or an integer out of range fails the call
// with a Protocol error naming the field (a cast of such a double is undefined behaviour).
double num(net::FieldReader& f, const json::object& o, std::string_view key) {
  return f.number(o, key);
}
std::optional<double> opt_num(net::FieldReader& f, const json::object& o, std::string_view key) {
  return f.optional_number(o, key);
}
std::int64_t i64(net::FieldReader& f, const json::object& o, std::string_view key) {
  return f.integer(o, key);
}
int i32(net::FieldReader& f, const json::object& o, std::string_view key) {
  return static_cast<int>(f.integer(o, key, INT32_MIN, INT32_MAX));
}
std::string str(const json::object& o, std::string_view key) {
  return net::field_text(o, key);
}
// The object `v` is, or an empty one (never a temporary: callers keep references into it).
const json::object& as_obj(const json::value& v) {
  static const json::object empty;
  return v.is_object() ? v.as_object() : empty;
}
const json::object& obj(const json::object& o, std::string_view key) {
  static const json::object empty;
  auto p = o.if_contains(key);
  return p && p->is_object() ? p->as_object() : empty;
}
const json::object& obj(const json::value& v, std::string_view key) {
  static const json::object empty;
  if (!v.is_object()) return empty;
  auto p = v.as_object().if_contains(key);
  return p && p->is_object() ? p->as_object() : empty;
}
const json::array& arr(const json::object& o, std::string_view key) {
  static const json::array empty;
  auto p = o.if_contains(key);
  return p && p->is_array() ? p->as_array() : empty;
}
std::string joined(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  std::string out;
  if (v.is_array())
    for (const auto& x : v.as_array())
      if (x.is_string()) out += (out.empty() ? "" : "; ") + std::string(x.as_string());
  return out;
}
std::optional<double> percent(net::FieldReader& f, const json::object& o, std::string_view key) {
  auto s = str(o, key);
  if (s.empty()) return std::nullopt;
  return f.finite(std::strtod(s.c_str(), nullptr), key);
}

// What the cloud said, from whichever of the eight error bodies it sent.
std::string said(const json::value& v) {
  if (!v.is_object()) return "";
  const auto& o = v.as_object();
  if (auto e = o.if_contains("error"); e && e->is_object())  // E7 (live_data)
    return str(e->as_object(), "message") + " (" + str(e->as_object(), "status") + ")";
  if (auto m = o.if_contains("errorMessages")) return joined(*m);  // E8
  std::string text = o.contains("message") ? joined(o.at("message")) : "";
  if (auto d = o.if_contains("details")) {
    auto details = joined(*d);
    if (!details.empty()) text += (text.empty() ? "" : ": ") + details;
  }
  return text;
}

ErrorKind kind_of(int status) {
  if (status == 401 || status == 403) return ErrorKind::Auth;
  if (status == 404 || status == 468) return ErrorKind::NotFound;
  if (status == 429) return ErrorKind::RateLimited;
  if (status == 466 || status == 472 || status == 501) return ErrorKind::NotSupported;
  if (status == 473 || status >= 500) return ErrorKind::Transport;  // the gateway, the cloud
  if (status == 400 || status == 422 || (status >= 461 && status <= 463))
    return ErrorKind::InvalidArgument;
  return ErrorKind::Protocol;
}

std::string query_of(const std::map<std::string, std::string>& q) {
  std::string out;
  for (const auto& [k, v] : q)
    if (!v.empty()) out += (out.empty() ? "?" : "&") + k + "=" + net::url_encode(v);
  return out;
}

// A telemetry window: its granularity and, when given, its start (epoch s).
std::map<std::string, std::string> window_query(std::int64_t start,
                                                const std::string& granularity) {
  std::map<std::string, std::string> q{{"granularity", granularity}};
  if (start > 0) q["start_at"] = std::to_string(start);
  return q;
}

std::string path_of(const std::string& target) {
  return target.substr(0, target.find('?'));
}

std::string sys(std::int64_t id) {
  return "/api/v4/systems/" + std::to_string(id);
}

System system_of(net::FieldReader& f, const json::object& o) {
  return {i64(f, o, "system_id"),      str(o, "name"),
          str(o, "timezone"),          str(o, "status"),
          str(o, "connection_type"),   str(o, "reference"),
          i64(f, o, "last_report_at"), i64(f, o, "operational_at")};
}

SystemPage page_of(net::FieldReader& f, const json::object& o) {
  SystemPage p;
  p.total = i32(f, o, "total");
  p.page = i32(f, o, "current_page");
  p.size = i32(f, o, "size");
  for (const auto& s : arr(o, "systems"))
    if (s.is_object()) p.systems.push_back(system_of(f, s.as_object()));
  return p;
}

Telemetry telemetry_of(net::FieldReader& f, const json::object& o, std::string_view wh_key,
                       std::string_view power_key = "") {
  Telemetry t;
  t.start_at = i64(f, o, "start_at");
  t.end_at = i64(f, o, "end_at");
  t.start_date = str(o, "start_date");
  t.total_devices = i32(f, o, "total_devices");
  auto add = [&](const json::value& x) {
    if (!x.is_object()) return;
    const auto& i = x.as_object();
    Interval iv{i64(f, i, "end_at"), num(f, i, wh_key), std::nullopt};
    if (!power_key.empty()) iv.power_w = opt_num(f, i, power_key);
    t.intervals.push_back(iv);
  };
  for (const auto& x : arr(o, "intervals")) {
    if (x.is_array())  // import / export: an array of groups
      for (const auto& y : x.as_array()) add(y);
    else
      add(x);
  }
  return t;
}

BatteryTelemetry battery_of(net::FieldReader& f, const json::object& o) {
  BatteryTelemetry t;
  t.start_at = i64(f, o, "start_at");
  t.end_at = i64(f, o, "end_at");
  t.total_devices = i32(f, o, "total_devices");
  for (const auto& x : arr(o, "intervals")) {
    if (!x.is_object()) continue;
    const auto& i = x.as_object();
    BatteryInterval b{i64(f, i, "end_at"), num(f, obj(x, "charge"), "enwh"),
                      num(f, obj(x, "discharge"), "enwh"), opt_num(f, obj(x, "soc"), "percent")};
    t.intervals.push_back(b);
  }
  t.last_soc = o.contains("last_reported_aggregate_soc")
                   ? percent(f, o, "last_reported_aggregate_soc")
                   : percent(f, o, "last_reported_soc");
  return t;
}

BatteryConfig battery_config_of(net::FieldReader& f, const json::object& o) {
  return {str(o, "battery_mode"), i32(f, o, "reserve_soc"), i32(f, o, "battery_shutdown_level"),
          str(o, "energy_independence") == "enabled", str(o, "charge_from_grid") == "enabled"};
}

StormGuard storm_of(const json::object& o) {
  auto status = str(o, "storm_guard_status");
  auto lower = status;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {lower.starts_with("enabled"), str(o, "storm_alert") == "true", status};
}

std::vector<LoadContact> contacts_of(net::FieldReader& f, const json::object& o) {
  std::vector<LoadContact> out;
  for (const auto& x : arr(o, "load_control_data")) {
    if (!x.is_object()) continue;
    const auto& c = x.as_object();
    auto override_ = c.if_contains("owner_can_override");
    out.push_back({str(c, "name"), str(c, "load_name"), str(c, "mode"), str(c, "status"),
                   override_ && override_->is_bool() && override_->as_bool(), i32(f, c, "soc_low"),
                   i32(f, c, "soc_high"), i32(f, c, "essential_start_time"),
                   i32(f, c, "essential_end_time")});
  }
  return out;
}

}  // namespace

Client::Client(net::HttpClient& http, net::Endpoint endpoint, std::string api_key, Millis timeout)
    : http_(http),
      endpoint_(std::move(endpoint)),
      api_key_(std::move(api_key)),
      timeout_(timeout) {}

void Client::use_access_token(std::string token) {
  std::lock_guard lock(mutex_);
  access_token_ = std::move(token);
}

std::optional<Refusal> Client::take_refusal() {
  std::lock_guard lock(mutex_);
  return std::exchange(refusal_, std::nullopt);
}

asio::awaitable<Result<json::value>> Client::call(std::string method, std::string target,
                                                  std::optional<std::string> body,
                                                  net::Headers extra) {
  auto path = target.substr(0, target.find('?'));
  const std::string what = "Enphase " + method + " " + path;
  net::HttpRequest req;
  req.method = method;
  req.target = target;
  {
    std::lock_guard lock(mutex_);
    req.headers = {{"Authorization", "Bearer " + access_token_}, {"key", api_key_}};
  }
  req.headers.emplace_back("Accept", "application/json");
  for (auto& h : extra) req.headers.push_back(std::move(h));
  if (body) {
    req.body = std::move(*body);
    req.headers.emplace_back("Content-Type", "application/json");
  }
  req.timeout = timeout_;
  for (const auto& [k, v] : req.headers)
    if (k == "duration") req.timeout = timeout_ + std::chrono::seconds(std::stoi(v));
  auto op = http_.request(endpoint_, std::move(req));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  json::value doc;
  bool parsed = true;
  try {
    doc = r->body.empty() ? json::value(json::object{}) : json::parse(r->body);
  } catch (const std::exception&) {
    parsed = false;
  }
  if (r->status >= 200 && r->status < 300) {
    if (!parsed)
      co_return fail(ErrorKind::Protocol,
                     what + ": the answer is not JSON: " + r->body.substr(0, 120));
    co_return doc;
  }
  auto text = parsed ? said(doc) : r->body.substr(0, 120);
  Error e{kind_of(r->status),
          what + ": HTTP " + std::to_string(r->status) + (text.empty() ? "" : " " + text)};
  e.vendor_code = r->status;
  if (r->status == 429 && parsed && doc.is_object() && doc.as_object().contains("period")) {
    const auto& o = doc.as_object();
    net::FieldReader f(what);  // a refusal read as well as it can be: it only explains
    Refusal rf{i32(f, o, "limit"), str(o, "period"), from_ms(i64(f, o, "period_end") * 1000), ""};
    auto details = str(o, "details");
    if (auto at = details.rfind("plan "); at != std::string::npos) rf.plan = details.substr(at + 5);
    std::lock_guard lock(mutex_);
    refusal_ = rf;
  }
  co_return fail(std::move(e));
}

std::string Client::authorize_url(const net::Endpoint& cloud, const std::string& client_id,
                                  const std::string& redirect_uri, const std::string& state) {
  // The scheme's own port is left out, as a browser shows it.
  auto base = cloud.tls && cloud.port == 443 ? "https://" + cloud.host : cloud.str();
  auto url = base + "/oauth/authorize?response_type=code&client_id=" + net::url_encode(client_id) +
             "&redirect_uri=" + net::url_encode(redirect_uri);
  if (!state.empty()) url += "&state=" + net::url_encode(state);
  return url;
}

asio::awaitable<Result<Tokens>> Client::token_call(std::map<std::string, std::string> params,
                                                   std::string client_id,
                                                   std::string client_secret) {
  const std::string what = "Enphase /oauth/token (" + params["grant_type"] + ")";
  net::HttpRequest req;
  req.method = "POST";
  req.target = "/oauth/token" + query_of(params);
  req.headers = {
      {"Authorization", "Basic " + crypto::base64_encode(client_id + ":" + client_secret)}};
  req.timeout = timeout_;
  auto op = http_.request(endpoint_, std::move(req));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  co_return net::parse_token_answer(r->status, r->body, what);
}

asio::awaitable<Result<Tokens>> Client::exchange_code(std::string client_id,
                                                      std::string client_secret, std::string code,
                                                      std::string redirect_uri) {
  auto op = token_call(
      {{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", redirect_uri}},
      client_id, client_secret);
  co_return co_await std::move(op);
}

asio::awaitable<Result<Tokens>> Client::refresh_tokens(std::string client_id,
                                                       std::string client_secret,
                                                       std::string refresh_token) {
  auto op = token_call({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}},
                       client_id, client_secret);
  co_return co_await std::move(op);
}

asio::awaitable<Result<Tokens>> Client::password_grant(std::string client_id,
                                                       std::string client_secret,
                                                       std::string username, std::string password) {
  auto op = token_call({{"grant_type", "password"}, {"username", username}, {"password", password}},
                       client_id, client_secret);
  co_return co_await std::move(op);
}

// Each typed call: the request, then the body read into its type through `f`, whose
// result() is the typed value or the first field it refused.
#define SB_CALL(doc, method, target, ...)                          \
  auto doc##_op = call(method, target __VA_OPT__(, ) __VA_ARGS__); \
  auto doc = co_await std::move(doc##_op);                         \
  if (!doc) co_return fail(doc.error());                           \
  net::FieldReader f("Enphase " + std::string(method) + " " + path_of(target))
// The same for an answer that must be an object: `doc` points at it.
#define SB_OBJECT(doc, ...)                                                            \
  SB_CALL(doc##_value, __VA_ARGS__);                                                   \
  if (!doc##_value->is_object())                                                       \
    co_return fail(ErrorKind::Protocol, "Enphase: the answer is not a JSON object: " + \
                                            net::to_json(*doc##_value).substr(0, 80)); \
  const json::object* doc = &doc##_value->as_object()

asio::awaitable<Result<SystemPage>> Client::systems(int page, int size) {
  SB_OBJECT(doc, "GET",
            "/api/v4/systems?page=" + std::to_string(page) + "&size=" + std::to_string(size));
  co_return f.result(page_of(f, *doc));
}

asio::awaitable<Result<SystemPage>> Client::search(std::string name, int page, int size) {
  json::object body{{"system", json::object{{"name", name}}}};
  SB_OBJECT(doc, "POST",
            "/api/v4/systems/search?page=" + std::to_string(page) + "&size=" + std::to_string(size),
            json::serialize(body));
  co_return f.result(page_of(f, *doc));
}

asio::awaitable<Result<System>> Client::system(std::int64_t id) {
  SB_OBJECT(doc, "GET", sys(id));
  co_return f.result(system_of(f, *doc));
}

asio::awaitable<Result<Summary>> Client::summary(std::int64_t id) {
  SB_OBJECT(doc, "GET", sys(id) + "/summary");
  const auto& o = *doc;
  Summary s;
  s.system_id = i64(f, o, "system_id");
  s.current_power_w = num(f, o, "current_power");
  s.energy_lifetime_wh = num(f, o, "energy_lifetime");
  s.energy_today_wh = num(f, o, "energy_today");
  s.size_w = num(f, o, "size_w");
  s.battery_capacity_wh = num(f, o, "battery_capacity_wh");
  s.modules = i32(f, o, "modules");
  s.last_report_at = i64(f, o, "last_report_at");
  s.last_interval_end_at = i64(f, o, "last_interval_end_at");
  s.operational_at = i64(f, o, "operational_at");
  s.status = str(o, "status");
  s.summary_date = str(o, "summary_date");
  co_return f.result(std::move(s));
}

asio::awaitable<Result<std::vector<Device>>> Client::devices(std::int64_t id) {
  SB_OBJECT(doc, "GET", sys(id) + "/devices");
  std::vector<Device> out;
  for (const auto& [kind, list] : obj(*doc, "devices")) {
    if (!list.is_array()) continue;
    for (const auto& d : list.as_array()) {
      if (!d.is_object()) continue;
      const auto& o = d.as_object();
      auto active = o.if_contains("active");
      auto firmware = str(o, "firmware");
      if (firmware.empty()) firmware = str(o, "emu_sw_version");
      out.push_back({std::string(kind), str(o, "name"), str(o, "serial_number"), str(o, "model"),
                     str(o, "sku"), str(o, "part_number"), firmware, str(o, "status"),
                     !active || !active->is_bool() || active->as_bool(),
                     i64(f, o, "last_report_at")});
    }
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::int64_t>> Client::system_of_gateway(std::string envoy_serial) {
  SB_OBJECT(doc, "GET",
            "/api/v4/systems/retrieve_system_id?serial_num=" + net::url_encode(envoy_serial));
  co_return f.result(i64(f, *doc, "system_id"));
}

asio::awaitable<Result<std::vector<Inverter>>> Client::inverters(std::int64_t id, int page,
                                                                 int size) {
  SB_CALL(doc, "GET",
          "/api/v4/systems/inverters_summary_by_envoy_or_site?site_id=" + std::to_string(id) +
              "&page=" + std::to_string(page) + "&size=" + std::to_string(size));
  std::vector<Inverter> out;
  if (!doc->is_array()) co_return f.result(std::move(out));
  for (const auto& group : doc->as_array())
    for (const auto& m : arr(as_obj(group), "micro_inverters")) {
      if (!m.is_object()) continue;
      const auto& o = m.as_object();
      out.push_back({str(o, "serial_number"), str(o, "model"), str(o, "status"),
                     num(f, obj(m, "power_produced"), "value"), num(f, obj(m, "energy"), "value"),
                     i64(f, o, "last_report_date")});
    }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::vector<SystemEvent>>> Client::events(std::int64_t id, std::int64_t from,
                                                                 std::int64_t to) {
  SB_OBJECT(
      doc, "GET",
      sys(id) + "/events?start_time=" + std::to_string(from) + "&end_time=" + std::to_string(to));
  std::vector<SystemEvent> out;
  for (const auto& e : arr(*doc, "events")) {
    if (!e.is_object()) continue;
    const auto& o = e.as_object();
    SystemEvent x{i32(f, o, "event_type_id"), str(o, "status"), str(o, "serial_number"),
                  i64(f, o, "event_start_time"), std::nullopt};
    if (o.contains("event_end_time")) x.end = i64(f, o, "event_end_time");
    out.push_back(x);
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::vector<Alarm>>> Client::alarms(std::int64_t id, std::int64_t from,
                                                           std::int64_t to, bool cleared) {
  SB_OBJECT(doc, "GET",
            sys(id) + "/alarms?start_time=" + std::to_string(from) +
                "&end_time=" + std::to_string(to) + "&cleared=" + (cleared ? "true" : "false"));
  std::vector<Alarm> out;
  for (const auto& a : arr(*doc, "alarms")) {
    if (!a.is_object()) continue;
    const auto& o = a.as_object();
    auto c = o.if_contains("cleared");
    Alarm x{str(o, "id"),
            i32(f, o, "event_type_id"),
            i32(f, o, "severity"),
            c && c->is_bool() && c->as_bool(),
            i64(f, o, "alarm_start_time"),
            std::nullopt};
    if (auto e = o.if_contains("alarm_end_time"); e && !e->is_null())
      x.end = i64(f, o, "alarm_end_time");
    out.push_back(x);
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::vector<EventType>>> Client::event_types() {
  SB_OBJECT(doc, "GET", "/api/v4/systems/event_types");
  std::vector<EventType> out;
  for (const auto& t : arr(*doc, "event_types")) {
    if (!t.is_object()) continue;
    const auto& o = t.as_object();
    auto st = o.if_contains("stateful");
    out.push_back({i32(f, o, "event_type_id"), str(o, "event_type_key"), str(o, "event_name"),
                   str(o, "event_description"), st && st->is_bool() && st->as_bool()});
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::vector<MeterReading>>> Client::meter_readings(std::int64_t id,
                                                                          std::int64_t end_at) {
  SB_OBJECT(doc, "GET",
            sys(id) + "/production_meter_readings" +
                (end_at > 0 ? "?end_at=" + std::to_string(end_at) : ""));
  std::vector<MeterReading> out;
  for (const auto& m : arr(*doc, "meter_readings")) {
    if (!m.is_object()) continue;
    const auto& o = m.as_object();
    out.push_back({str(o, "serial_num"), num(f, o, "value"), i64(f, o, "read_at")});
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<Telemetry>> Client::rgm_stats(std::int64_t id, std::int64_t start,
                                                     std::int64_t end) {
  std::map<std::string, std::string> q;
  if (start > 0) q["start_at"] = std::to_string(start);
  if (end > 0) q["end_at"] = std::to_string(end);
  SB_OBJECT(doc, "GET", sys(id) + "/rgm_stats" + query_of(q));
  co_return f.result(telemetry_of(f, *doc, "wh_del"));
}

asio::awaitable<Result<Lifetime>> Client::lifetime(std::int64_t id, LifetimeKind kind,
                                                   std::string start_date, std::string end_date,
                                                   bool all_production) {
  static const char* paths[] = {"energy_lifetime", "consumption_lifetime", "battery_lifetime",
                                "energy_import_lifetime", "energy_export_lifetime"};
  static const char* keys[] = {"production", "consumption", "", "import", "export"};
  auto k = static_cast<int>(kind);
  std::map<std::string, std::string> q{{"start_date", start_date}, {"end_date", end_date}};
  if (all_production && kind == LifetimeKind::Energy) q["production"] = "all";
  SB_OBJECT(doc, "GET", sys(id) + "/" + paths[k] + query_of(q));
  const auto& o = *doc;
  Lifetime l;
  l.start_date = str(o, "start_date");
  auto values = [&](std::string_view key) {
    std::vector<double> v;
    for (const auto& x : arr(o, key)) v.push_back(f.finite(net::as_double(x).value_or(0), key));
    return v;
  };
  if (kind == LifetimeKind::Battery) {
    l.charge = values("charge");
    l.discharge = values("discharge");
  } else {
    l.values = values(keys[k]);
  }
  l.meter_values = values("meter_production");
  l.micro_values = values("micro_production");
  co_return f.result(std::move(l));
}

asio::awaitable<Result<Telemetry>> Client::telemetry(std::int64_t id, std::string kind,
                                                     std::int64_t start, std::string granularity) {
  auto q = window_query(start, granularity);
  SB_OBJECT(doc, "GET", sys(id) + "/telemetry/" + kind + query_of(q));
  co_return f.result(telemetry_of(f, *doc, kind == "production_meter" ? "wh_del" : "enwh",
                                  kind == "production_micro" ? "powr" : ""));
}

asio::awaitable<Result<BatteryTelemetry>> Client::battery_telemetry(std::int64_t id,
                                                                    std::int64_t start,
                                                                    std::string granularity) {
  auto q = window_query(start, granularity);
  SB_OBJECT(doc, "GET", sys(id) + "/telemetry/battery" + query_of(q));
  co_return f.result(battery_of(f, *doc));
}

asio::awaitable<Result<Telemetry>> Client::grid_telemetry(std::int64_t id, bool import,
                                                          std::int64_t start,
                                                          std::string granularity) {
  auto q = window_query(start, granularity);
  SB_OBJECT(
      doc, "GET",
      sys(id) + (import ? "/energy_import_telemetry" : "/energy_export_telemetry") + query_of(q));
  co_return f.result(telemetry_of(f, *doc, import ? "wh_imported" : "wh_exported"));
}

asio::awaitable<Result<Telemetry>> Client::micro_telemetry(std::int64_t id, std::string serial,
                                                           std::int64_t start,
                                                           std::string granularity) {
  auto q = window_query(start, granularity);
  SB_OBJECT(doc, "GET",
            sys(id) + "/devices/micros/" + net::url_encode(serial) + "/telemetry" + query_of(q));
  co_return f.result(telemetry_of(f, *doc, "enwh", "powr"));
}

asio::awaitable<Result<BatteryTelemetry>> Client::device_battery_telemetry(
    std::int64_t id, bool acb, std::string serial, std::int64_t start, std::string granularity) {
  auto q = window_query(start, granularity);
  SB_OBJECT(doc, "GET",
            sys(id) + (acb ? "/devices/acbs/" : "/devices/encharges/") + net::url_encode(serial) +
                "/telemetry" + query_of(q));
  co_return f.result(battery_of(f, *doc));
}

asio::awaitable<Result<LatestPower>> Client::latest(std::int64_t id) {
  SB_OBJECT(doc, "GET", sys(id) + "/latest_telemetry");
  LatestPower p;
  const auto& devices = obj(*doc, "devices");
  // Channel by channel: a channel that has not reported (null) adds nothing.
  auto sum = [&](std::string_view list, std::string_view name) -> std::optional<double> {
    std::optional<double> total;
    for (const auto& d : arr(devices, list)) {
      if (!d.is_object()) continue;
      const auto& o = d.as_object();
      if (!name.empty() && str(o, "name") != name) continue;
      if (auto w = opt_num(f, o, "power")) {
        total = total.value_or(0) + *w;
        p.reported_at = std::max(p.reported_at, i64(f, o, "last_report_at"));
      }
    }
    return total;
  };
  p.production_w = sum("meters", "production");
  p.consumption_w = sum("meters", "consumption");
  p.battery_w = sum("encharges", "");
  if (auto acb = sum("acbs", ""); acb) p.battery_w = p.battery_w.value_or(0) + *acb;
  co_return f.result(std::move(p));
}

asio::awaitable<Result<std::vector<LiveStatus>>> Client::live(std::int64_t id, int duration_s) {
  const std::string what = "Enphase GET " + sys(id) + "/live_data";
  net::HttpRequest req;
  req.target = sys(id) + "/live_data";
  {
    std::lock_guard lock(mutex_);
    req.headers = {{"Authorization", "Bearer " + access_token_}, {"key", api_key_}};
  }
  req.headers.emplace_back("duration", std::to_string(duration_s));
  req.timeout = timeout_ + std::chrono::seconds(duration_s);
  auto op = http_.request(endpoint_, std::move(req));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  if (r->status != 200) {
    json::value doc;
    try {
      doc = json::parse(r->body);
    } catch (const std::exception&) {
    }
    co_return fail(kind_of(r->status),
                   what + ": HTTP " + std::to_string(r->status) + " " + said(doc));
  }
  // Server-sent events: "data: {...}" blocks separated by an empty line.
  net::FieldReader f(what);
  std::vector<LiveStatus> out;
  std::size_t at = 0;
  while ((at = r->body.find("data:", at)) != std::string::npos) {
    auto end = r->body.find("\n\n", at);
    if (end == std::string::npos)
      co_return fail(ErrorKind::Protocol, what + ": the stream ended inside an event");
    json::value msg;
    try {
      msg = json::parse(std::string_view(r->body).substr(at + 5, end - at - 5));
    } catch (const std::exception&) {
      co_return fail(ErrorKind::Protocol, what + ": an event is not JSON");
    }
    const auto& d = obj(msg, "data");
    LiveStatus s;
    s.at_ms = msg.is_object() ? i64(f, msg.as_object(), "timestamp_epoch") : 0;
    s.pv_w = num(f, d, "pv_power");
    s.consumption_w = num(f, d, "consumption_power");
    s.grid_w = num(f, d, "grid_power");
    s.battery_w = num(f, d, "battery_power");
    s.generator_w = num(f, d, "generator_power");
    s.soc = opt_num(f, d, "battery_soc");
    s.battery_mode = str(d, "battery_mode");
    s.grid_status = str(d, "grid_status");
    out.push_back(s);
    at = end;
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<BatteryConfig>> Client::battery_settings(std::int64_t id) {
  SB_OBJECT(doc, "GET", "/api/v4/systems/config/" + std::to_string(id) + "/battery_settings");
  co_return f.result(battery_config_of(f, *doc));
}

asio::awaitable<Result<BatteryConfig>> Client::set_battery_settings(std::int64_t id,
                                                                    BatteryChange c) {
  json::object body;
  if (c.mode) body["battery_mode"] = *c.mode;
  if (c.reserve_soc) body["reserve_soc"] = *c.reserve_soc;
  if (c.energy_independence)
    body["energy_independence"] = *c.energy_independence ? "enabled" : "disabled";
  if (c.charge_from_grid) body["charge_from_grid"] = *c.charge_from_grid ? "enabled" : "disabled";
  SB_OBJECT(doc, "PUT", "/api/v4/systems/config/" + std::to_string(id) + "/battery_settings",
            json::serialize(body));
  co_return f.result(battery_config_of(f, *doc));
}

asio::awaitable<Result<StormGuard>> Client::storm_guard(std::int64_t id) {
  SB_OBJECT(doc, "GET", "/api/v4/systems/config/" + std::to_string(id) + "/storm_guard");
  co_return f.result(storm_of(*doc));
}

asio::awaitable<Result<StormGuard>> Client::set_storm_guard(std::int64_t id, bool enabled) {
  json::object body{{"storm_guard_status", enabled ? "enabled" : "disabled"}};
  SB_OBJECT(doc, "PUT", "/api/v4/systems/config/" + std::to_string(id) + "/storm_guard",
            json::serialize(body));
  co_return f.result(storm_of(*doc));
}

asio::awaitable<Result<GridStatus>> Client::grid_status(std::int64_t id) {
  SB_OBJECT(doc, "GET", "/api/v4/systems/config/" + std::to_string(id) + "/grid_status");
  co_return f.result(GridStatus{str(*doc, "grid_state"), i64(f, *doc, "last_report_date")});
}

asio::awaitable<Result<std::vector<LoadContact>>> Client::load_control(std::int64_t id) {
  SB_OBJECT(doc, "GET", "/api/v4/systems/config/" + std::to_string(id) + "/load_control");
  co_return f.result(contacts_of(f, *doc));
}

asio::awaitable<Result<std::vector<LoadContact>>> Client::set_load_control(std::int64_t id,
                                                                           LoadContactChange c) {
  json::object body{{"name", c.name}};
  if (c.mode) body["mode"] = *c.mode;
  if (c.soc_low) body["soc_low"] = *c.soc_low;
  if (c.essential_start) body["essential_start_time"] = *c.essential_start;
  if (c.essential_end) body["essential_end_time"] = *c.essential_end;
  SB_OBJECT(doc, "PUT", "/api/v4/systems/config/" + std::to_string(id) + "/load_control",
            json::serialize(body));
  co_return f.result(contacts_of(f, *doc));
}

asio::awaitable<Result<std::vector<EvCharger>>> Client::ev_chargers(std::int64_t id) {
  SB_CALL(doc, "GET", sys(id) + "/ev_charger/devices");
  std::vector<EvCharger> out;
  for (const auto& c : arr(obj(*doc, "devices"), "ev_chargers")) {
    if (!c.is_object()) continue;
    const auto& o = c.as_object();
    auto active = o.if_contains("active");
    out.push_back({str(o, "id"), str(o, "serial_number"), str(o, "name"), str(o, "model"),
                   str(o, "sku"), str(o, "firmware"), str(o, "status"),
                   active && active->is_bool() && active->as_bool()});
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::vector<EvEvent>>> Client::ev_events(std::int64_t id, int offset,
                                                                int limit) {
  SB_OBJECT(doc, "GET",
            sys(id) + "/ev_charger/events?offset=" + std::to_string(offset) +
                "&limit=" + std::to_string(limit));
  std::vector<EvEvent> out;
  for (const auto& e : arr(*doc, "events")) {
    if (!e.is_object()) continue;
    const auto& o = e.as_object();
    out.push_back({str(o, "status"), str(o, "details"), i64(f, o, "triggered_date"),
                   i64(f, o, "cleared_date")});
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::vector<EvSession>>> Client::ev_sessions(std::int64_t id,
                                                                    std::string serial, int offset,
                                                                    int limit) {
  SB_OBJECT(doc, "GET",
            sys(id) + "/ev_charger/" + net::url_encode(serial) +
                "/sessions?offset=" + std::to_string(offset) + "&limit=" + std::to_string(limit));
  std::vector<EvSession> out;
  for (const auto& e : arr(*doc, "sessions")) {
    if (!e.is_object()) continue;
    const auto& o = e.as_object();
    out.push_back({i64(f, o, "start_time"), i64(f, o, "end_time"), i64(f, o, "duration"),
                   i64(f, o, "charge_time"), num(f, o, "energy_added"), num(f, o, "miles_added"),
                   num(f, o, "cost")});
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::vector<EvSchedule>>> Client::ev_schedules(std::int64_t id,
                                                                      std::string serial) {
  SB_OBJECT(doc, "GET", sys(id) + "/ev_charger/" + net::url_encode(serial) + "/schedules");
  std::vector<EvSchedule> out;
  for (const auto& l : arr(*doc, "charger_schedules")) {
    if (!l.is_object()) continue;
    const auto& o = l.as_object();
    EvSchedule s;
    s.type = str(o, "type");
    auto active = o.if_contains("is_active");
    s.active = active && active->is_bool() && active->as_bool();
    for (const auto& x : arr(o, "schedules")) {
      if (!x.is_object()) continue;
      const auto& e = x.as_object();
      std::vector<int> days;
      for (const auto& d : arr(e, "days"))
        days.push_back(static_cast<int>(f.integer(net::as_double(d).value_or(0), "days", 0, 7)));
      s.days.push_back(days);
      s.start.push_back(str(e, "start_time"));
      s.end.push_back(str(e, "end_time"));
      s.level.push_back(i32(f, e, "charging_level"));
    }
    out.push_back(s);
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::map<std::string, double>>> Client::ev_daily(std::int64_t id,
                                                                        std::string serial,
                                                                        std::string start_date,
                                                                        std::string end_date) {
  SB_OBJECT(doc, "GET",
            sys(id) + "/ev_charger/" + net::url_encode(serial) + "/lifetime" +
                query_of({{"start_date", start_date}, {"end_date", end_date}}));
  std::map<std::string, double> out;
  const auto& o = *doc;
  auto c = o.if_contains("consumption");
  if (c && c->is_object()) {
    for (const auto& [day, wh] : c->as_object())
      out[std::string(day)] = f.finite(net::as_double(wh).value_or(0), "consumption");
  } else if (c && c->is_array()) {
    // The document's example: a plain list from start_date.
    std::istringstream in(str(o, "start_date"));
    int y = 0, m = 0, d = 0;
    char dash;
    in >> y >> dash >> m >> dash >> d;
    auto day = std::chrono::sys_days(std::chrono::year{y} / m / d);
    for (const auto& wh : c->as_array()) {
      out[format_iso8601(time_point_cast<Millis>(day)).substr(0, 10)] =
          f.finite(net::as_double(wh).value_or(0), "consumption");
      day += std::chrono::days(1);
    }
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<Telemetry>> Client::ev_telemetry(std::int64_t id, std::string serial,
                                                        std::int64_t start,
                                                        std::string granularity) {
  auto q = window_query(start, granularity);
  SB_OBJECT(doc, "GET",
            sys(id) + "/ev_charger/" + net::url_encode(serial) + "/telemetry" + query_of(q));
  Telemetry t;
  const auto& o = *doc;
  t.start_at = i64(f, o, "start_at");
  t.end_at = i64(f, o, "end_at");
  t.start_date = str(o, "start_date");
  for (const auto& x : arr(o, "consumption"))
    if (x.is_object())
      t.intervals.push_back(
          {i64(f, x.as_object(), "end_at"), num(f, x.as_object(), "consumption"), std::nullopt});
  co_return f.result(std::move(t));
}

asio::awaitable<Result<void>> Client::ev_start(std::int64_t id, std::string serial, int level) {
  json::object body{{"connectorId", "1"}, {"chargingLevel", std::to_string(level)}};
  SB_CALL(doc, "POST", sys(id) + "/ev_charger/" + net::url_encode(serial) + "/start_charging",
          json::serialize(body));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Client::ev_stop(std::int64_t id, std::string serial) {
  SB_CALL(doc, "POST", sys(id) + "/ev_charger/" + net::url_encode(serial) + "/stop_charging",
          std::string("{}"));
  co_return Result<void>{};
}

#undef SB_OBJECT
#undef SB_CALL

}  // namespace sb::enphase
