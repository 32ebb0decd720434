// The FoxESS Open API client: one method per interface the driver and the tools use, each
// signed, unwrapped from the {errno, msg, result} envelope and decoded into the wire types.
// Longer than ~700 lines on purpose: the interfaces share the signing, the envelope and the
// errno mapping handled here, and splitting them would spread that one request path.
#include "vendors/foxess/client.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>

#include "net/json.hpp"
#include "vendors/foxess/signature.hpp"

namespace sb::foxess {

namespace json = boost::json;

Error error_from_errno(int err, std::string_view msg, std::string_view what) {
  std::string text = std::string(what) + ": errno " + std::to_string(err) +
                     (msg.empty() ? std::string() : " (" + std::string(msg) + ")");
  Error e{ErrorKind::Vendor, text};
  e.vendor_code = err;
  switch (err) {
    case 40400:
      e.kind = ErrorKind::RateLimited;
      e.message += ": too many calls for the account's limits";
      break;
    case 40256:
    case 41808:
    case 41809:
      e.kind = ErrorKind::Auth;
      e.message += err == 41808   ? ": the API key is not valid (regenerated or mistyped?)"
                   : err == 41809 ? ": the timestamp is stale (is this machine's clock right?)"
                                  : ": the cloud refused the request's signature or headers";
      break;
    case 40257:
    case 42023:
      e.kind = ErrorKind::InvalidArgument;
      break;
    case 44096:
      e.kind = ErrorKind::Conflict;
      e.message += ": the scheduler is on; turn it off first (tou-schedule off)";
      break;
    case 41200:
    case 41202:
    case 41203:
      e.kind = ErrorKind::Transport;  // transient on the cloud's side: retry later
      break;
    default:
      break;
  }
  return e;
}

namespace {

std::string text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (auto d = net::as_double(v)) {
    if (*d == std::floor(*d) && std::abs(*d) < 1e15) return std::to_string(std::int64_t(*d));
    return net::to_json(v);
  }
  return "";
}

std::string str(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v ? text_of(*v) : "";
}

double num(const json::object& o, std::string_view key) {
  return net::field_number(o, key);
}

// A whole number that fits an int (a larger one, cast, would be undefined behaviour).
int as_int(net::FieldReader& f, const json::object& o, std::string_view key) {
  return static_cast<int>(
      f.integer(o, key, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

Result<const json::array*> array_of(const json::value& v, std::string_view what) {
  if (!v.is_array()) return fail(ErrorKind::Protocol, std::string(what) + ": result is not a list");
  return &v.as_array();
}

Result<const json::object*> object_of(const json::value& v, std::string_view what) {
  if (!v.is_object())
    return fail(ErrorKind::Protocol, std::string(what) + ": result is not an object");
  return &v.as_object();
}

// "2026-11-22 10:44:04" (UTC, as history sends it).
std::optional<TimePoint> utc_time(std::string_view s) {
  if (s.size() < 19) return std::nullopt;
  std::string iso(s.substr(0, 19));
  iso[10] = 'T';
  iso += "Z";
  TimePoint t;
  if (!parse_iso8601(iso, t)) return std::nullopt;
  return t;
}

std::vector<RealTime> real_time_of(const json::array& a);

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.push_back(json::string(s));
  return a;
}

}  // namespace

Client::Client(net::HttpClient& http, net::Endpoint endpoint, std::string api_key,
               const Clock& clock, Millis timeout, net::Sleeper* sleeper)
    : http_(http),
      endpoint_(std::move(endpoint)),
      api_key_(std::move(api_key)),
      clock_(clock),
      timeout_(timeout),
      sleeper_(sleeper) {}

asio::awaitable<Result<json::value>> Client::call(std::string method, std::string path,
                                                  std::map<std::string, std::string> query,
                                                  std::optional<json::value> body) {
  const bool write = is_write(path);
  auto paced = [&](Pace when) -> asio::awaitable<void> {
    if (!pacer_) co_return;
    auto pace = pacer_(path, write, when);
    co_await std::move(pace);
  };
  // A 40400 (too frequent) is tried once more, 2 s later; each try is paced before and after.
  for (int attempt = 0;; ++attempt) {
    auto before = paced(Pace::Before);
    co_await std::move(before);
    auto once = call_once(method, path, query, body);
    auto r = co_await std::move(once);
    auto after = paced(!r && r.error().kind == ErrorKind::Timeout ? Pace::GaveUp : Pace::Answered);
    co_await std::move(after);
    if (r || !sleeper_ || r.error().vendor_code != 40400 || attempt == 1) co_return r;
    co_await sleeper_->sleep(Millis(2000));
  }
}

bool Client::is_write(std::string_view path) {
  for (std::string_view end : {"/set", "/enable", "/create", "/delete", "/update"})
    if (path.ends_with(end)) return true;
  return path.find("/set/") != std::string_view::npos;
}

asio::awaitable<Result<json::value>> Client::call_once(std::string method, std::string path,
                                                       std::map<std::string, std::string> query,
                                                       std::optional<json::value> body) {
  const std::string what = "FoxESS " + path;
  net::HttpRequest req;
  req.method = method;
  req.target = path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    req.target += sep + net::url_encode(k) + "=" + net::url_encode(v);
    sep = '&';
  }
  // The signature covers the path only, never the query (protocols.md §2.1). In OAuth mode the
  // access token takes the API key's place in it and travels as a bearer (foxess.md B.2).
  if (access_token_.empty()) {
    req.headers = signed_headers(path, api_key_, to_ms(clock_.now()));
  } else {
    req.headers = signed_headers(path, access_token_, to_ms(clock_.now()));
    std::erase_if(req.headers, [](const auto& h) { return net::iequals(h.first, "token"); });
    req.headers.emplace_back("Authorization", "Bearer " + access_token_);
  }
  if (body) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = net::to_json(*body);
  }
  req.timeout = timeout_;
  auto op = http_.request(endpoint_, std::move(req));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  if (r->status == 429) {
    Error e{ErrorKind::RateLimited, what + ": HTTP 429 Too Many Requests"};
    co_return fail(e);
  }
  if (r->status >= 500)
    co_return fail(ErrorKind::Transport,
                   what + ": HTTP " + std::to_string(r->status) + " from the cloud (transient)");
  if (r->status != 200)
    co_return fail(r->status == 404 ? ErrorKind::NotFound : ErrorKind::Protocol,
                   what + ": HTTP " + std::to_string(r->status));
  auto doc = net::parse_json_object(r->body, what);
  if (!doc) co_return fail(doc.error());
  auto err = doc->if_contains("errno");
  auto code = err ? net::as_double(*err) : std::nullopt;
  if (!code) co_return fail(ErrorKind::Protocol, what + ": the reply has no errno");
  if (*code != 0) {
    auto errno_ = net::whole_number(*code, INT32_MIN, INT32_MAX, what, "errno");
    if (!errno_) co_return fail(errno_.error());
    int err = static_cast<int>(*errno_);
    auto e = error_from_errno(err, str(*doc, "msg"), what);
    if (!access_token_.empty() && (err == 41808 || err == 41809))  // OAuth, not a key
      e.message = std::string(what) + ": errno " + std::to_string(err) + " (" + str(*doc, "msg") +
                  "): the OAuth access token is " +
                  (err == 41808 ? "not valid (revoked?)" : "expired or the clock is off");
    co_return fail(e);
  }
  auto res = doc->if_contains("result");
  co_return res ? *res : json::value(nullptr);
}

asio::awaitable<Result<std::vector<Plant>>> Client::plants() {
  std::vector<Plant> out;
  for (int page = 1;; ++page) {
    auto op = call("POST", "/op/v0/plant/list", {},
                   json::object{{"currentPage", page}, {"pageSize", 100}});
    auto r = co_await std::move(op);
    if (!r) co_return fail(r.error());
    auto o = object_of(*r, "FoxESS plant list");
    if (!o) co_return fail(o.error());
    auto data = (*o)->if_contains("data");
    if (!data || !data->is_array())
      co_return fail(ErrorKind::Protocol, "FoxESS plant list: no data list");
    for (const auto& p : data->as_array()) {
      if (!p.is_object()) continue;
      out.push_back({str(p.as_object(), "stationID"), str(p.as_object(), "name"),
                     str(p.as_object(), "ianaTimezone")});
    }
    if (data->as_array().empty() || double(out.size()) >= num(**o, "total")) break;
  }
  co_return out;
}

asio::awaitable<Result<PlantDetail>> Client::plant(std::string station_id) {
  auto op = call("GET", "/op/v0/plant/detail", {{"id", station_id}}, std::nullopt);
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto o = object_of(*r, "FoxESS plant detail");
  if (!o) co_return fail(o.error());
  PlantDetail d{
      str(**o, "stationName"), str(**o, "country"),  str(**o, "city"),     str(**o, "address"),
      str(**o, "postcode"),    str(**o, "timezone"), num(**o, "capacity"), {}};
  if (auto m = (*o)->if_contains("modules"); m && m->is_array())
    for (const auto& x : m->as_array())
      if (x.is_object())
        d.modules.emplace_back(str(x.as_object(), "moduleSN"), str(x.as_object(), "deviceSN"));
  co_return d;
}

asio::awaitable<Result<std::vector<Device>>> Client::devices() {
  std::vector<Device> out;
  net::FieldReader f("FoxESS device list");
  for (int page = 1;; ++page) {
    auto op = call("POST", "/op/v0/device/list", {},
                   json::object{{"currentPage", page}, {"pageSize", 100}});
    auto r = co_await std::move(op);
    if (!r) co_return fail(r.error());
    auto o = object_of(*r, "FoxESS device list");
    if (!o) co_return fail(o.error());
    auto data = (*o)->if_contains("data");
    if (!data || !data->is_array())
      co_return fail(ErrorKind::Protocol, "FoxESS device list: no data list");
    for (const auto& x : data->as_array()) {
      if (!x.is_object()) continue;
      const auto& d = x.as_object();
      Device dev{str(d, "deviceSN"),
                 str(d, "moduleSN"),
                 str(d, "stationID"),
                 str(d, "stationName"),
                 str(d, "deviceType"),
                 str(d, "productType"),
                 int(f.integer(d, "status", INT32_MIN, INT32_MAX)),
                 false,
                 false};
      if (auto b = d.if_contains("hasPV"); b && b->is_bool()) dev.has_pv = b->as_bool();
      if (auto b = d.if_contains("hasBattery"); b && b->is_bool()) dev.has_battery = b->as_bool();
      if (dev.sn.empty())
        co_return fail(ErrorKind::Protocol, "FoxESS device list: a device has no deviceSN");
      out.push_back(std::move(dev));
    }
    if (data->as_array().empty() || double(out.size()) >= num(**o, "total")) break;
  }
  co_return f.result(std::move(out));
}

asio::awaitable<Result<DeviceDetail>> Client::device(std::string sn) {
  auto op = call("GET", "/op/v0/device/detail", {{"sn", sn}}, std::nullopt);
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto o = object_of(*r, "FoxESS device detail");
  if (!o) co_return fail(o.error());
  const auto& d = **o;
  DeviceDetail out;
  net::FieldReader f("FoxESS device detail");
  out.sn = str(d, "deviceSN");
  out.device_type = str(d, "deviceType");
  out.product_type = str(d, "productType");
  out.master_version = str(d, "masterVersion");
  out.manager_version = str(d, "managerVersion");
  out.status = int(f.integer(d, "status", INT32_MIN, INT32_MAX));
  out.capacity_kw = num(d, "capacity");
  if (auto f = d.if_contains("function"); f && f->is_object())
    if (auto s = f->as_object().if_contains("scheduler"); s && s->is_bool())
      out.scheduler = s->as_bool();
  if (auto b = d.if_contains("batteryList"); b && b->is_array())
    for (const auto& x : b->as_array())
      if (x.is_object())
        out.batteries.push_back({str(x.as_object(), "batterySN"), str(x.as_object(), "model"),
                                 f.number(x.as_object(), "capicty")});
  co_return f.result(std::move(out));
}

asio::awaitable<Result<std::map<std::string, std::string>>> Client::variables() {
  auto op = call("GET", "/op/v0/device/variable/get", {}, std::nullopt);
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto a = array_of(*r, "FoxESS variables");
  if (!a) co_return fail(a.error());
  std::map<std::string, std::string> out;
  for (const auto& item : **a)
    if (item.is_object())
      for (const auto& [name, meta] : item.as_object())
        out[std::string(name)] = meta.is_object() ? str(meta.as_object(), "unit") : "";
  co_return out;
}

asio::awaitable<Result<std::vector<RealTime>>> Client::real_time(
    std::vector<std::string> sns, std::vector<std::string> variables) {
  std::vector<RealTime> out;
  for (std::size_t from = 0; from < sns.size(); from += 50) {
    // One query per second per interface: the next batch waits its turn.
    if (from > 0 && sleeper_) co_await sleeper_->sleep(Millis(1000));
    std::vector<std::string> batch(sns.begin() + std::ptrdiff_t(from),
                                   sns.begin() + std::ptrdiff_t(std::min(sns.size(), from + 50)));
    json::object body{{"sns", strings(batch)}};
    if (!variables.empty()) body["variables"] = strings(variables);
    auto op = call("POST", "/op/v1/device/real/query", {}, json::value(body));
    auto r = co_await std::move(op);
    if (!r) co_return fail(r.error());
    auto a = array_of(*r, "FoxESS real-time query");
    if (!a) co_return fail(a.error());
    auto batch_out = real_time_of(**a);
    out.insert(out.end(), std::make_move_iterator(batch_out.begin()),
               std::make_move_iterator(batch_out.end()));
  }
  co_return out;
}

asio::awaitable<Result<std::vector<Series>>> Client::history(std::string sn,
                                                             std::vector<std::string> variables,
                                                             TimePoint begin, TimePoint end) {
  json::object body{{"sn", sn}, {"begin", to_ms(begin)}, {"end", to_ms(end)}};
  if (!variables.empty()) body["variables"] = strings(variables);
  auto op = call("POST", "/op/v0/device/history/query", {}, json::value(body));
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto a = array_of(*r, "FoxESS history");
  if (!a) co_return fail(a.error());
  std::vector<Series> out;
  for (const auto& dev : **a) {
    if (!dev.is_object()) continue;
    auto datas = dev.as_object().if_contains("datas");
    if (!datas || !datas->is_array()) continue;
    for (const auto& s : datas->as_array()) {
      if (!s.is_object()) continue;
      Series series{str(s.as_object(), "variable"), str(s.as_object(), "unit"), {}};
      if (auto data = s.as_object().if_contains("data"); data && data->is_array())
        for (const auto& p : data->as_array()) {
          if (!p.is_object()) continue;
          auto t = utc_time(str(p.as_object(), "time"));
          auto v = p.as_object().if_contains("value");
          auto value = v ? net::as_double(*v) : std::nullopt;
          if (!t || !value)
            co_return fail(ErrorKind::Protocol, "FoxESS history: a point of " + series.variable +
                                                    " has no time or value");
          series.points.push_back({*t, *value});
        }
      out.push_back(std::move(series));
    }
  }
  co_return out;
}

asio::awaitable<Result<std::vector<ReportSeries>>> Client::report(
    std::string sn, std::string dimension, int year, int month, int day,
    std::vector<std::string> variables) {
  json::object body{
      {"sn", sn}, {"year", year}, {"dimension", dimension}, {"variables", strings(variables)}};
  if (dimension != "year") body["month"] = month;
  if (dimension == "day") body["day"] = day;
  auto op = call("POST", "/op/v0/device/report/query", {}, json::value(body));
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto a = array_of(*r, "FoxESS report");
  if (!a) co_return fail(a.error());
  std::vector<ReportSeries> out;
  for (const auto& x : **a) {
    if (!x.is_object()) continue;
    ReportSeries s{str(x.as_object(), "variable"), str(x.as_object(), "unit"), {}};
    if (auto v = x.as_object().if_contains("values"); v && v->is_array())
      for (const auto& n : v->as_array()) s.values.push_back(net::as_double(n).value_or(0));
    out.push_back(std::move(s));
  }
  co_return out;
}

asio::awaitable<Result<Generation>> Client::generation(std::string sn) {
  auto op = call("GET", "/op/v0/device/generation", {{"sn", sn}}, std::nullopt);
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto o = object_of(*r, "FoxESS generation");
  if (!o) co_return fail(o.error());
  co_return Generation{num(**o, "today"), num(**o, "month"), num(**o, "cumulative")};
}

asio::awaitable<Result<std::pair<int, int>>> Client::min_soc(std::string sn) {
  auto op = call("GET", "/op/v0/device/battery/soc/get", {{"sn", sn}}, std::nullopt);
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto o = object_of(*r, "FoxESS battery SoC");
  if (!o) co_return fail(o.error());
  net::FieldReader f("FoxESS battery SoC");
  std::pair soc{int(f.integer(**o, "minSoc", 0, 100)), int(f.integer(**o, "minSocOnGrid", 0, 100))};
  co_return f.result(soc);
}

asio::awaitable<Result<void>> Client::set_min_soc(std::string sn, int min_soc,
                                                  int min_soc_on_grid) {
  auto op = call("POST", "/op/v0/device/battery/soc/set", {},
                 json::object{{"sn", sn}, {"minSoc", min_soc}, {"minSocOnGrid", min_soc_on_grid}});
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  co_return Result<void>{};
}

asio::awaitable<Result<Setting>> Client::setting(std::string sn, std::string key) {
  auto op = call("POST", "/op/v0/device/setting/get", {}, json::object{{"sn", sn}, {"key", key}});
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto o = object_of(*r, "FoxESS setting " + key);
  if (!o) co_return fail(o.error());
  Setting s{str(**o, "value"), str(**o, "unit"), num(**o, "precision"), {}, {}, {}};
  if (auto range = (*o)->if_contains("range"); range && range->is_object()) {
    s.min = num(range->as_object(), "min");
    s.max = num(range->as_object(), "max");
  }
  if (auto list = (*o)->if_contains("enumList"); list && list->is_array())
    for (const auto& x : list->as_array()) s.choices.push_back(text_of(x));
  co_return s;
}

asio::awaitable<Result<void>> Client::set_setting(std::string sn, std::string key,
                                                  std::string value) {
  auto op = call("POST", "/op/v0/device/setting/set", {},
                 json::object{{"sn", sn}, {"key", key}, {"value", value}});
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  co_return Result<void>{};
}

asio::awaitable<Result<AccessCount>> Client::access_count() {
  auto op = call("GET", "/op/v0/user/getAccessCount", {}, std::nullopt);
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto o = object_of(*r, "FoxESS access count");
  if (!o) co_return fail(o.error());
  net::FieldReader f("FoxESS access count");
  AccessCount count{int(f.integer(**o, "total", INT32_MIN, INT32_MAX)),
                    int(f.integer(**o, "remaining", INT32_MIN, INT32_MAX))};
  co_return f.result(count);
}

// --- helpers -------------------------------------------------------------------------------

asio::awaitable<Result<const json::object*>> Client::call_object(
    std::string method, std::string path, std::map<std::string, std::string> query,
    std::optional<json::value> body, json::value& keep) {
  auto op = call(method, path, std::move(query), std::move(body));
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  keep = std::move(*r);
  co_return object_of(keep, "FoxESS " + path);
}

asio::awaitable<Result<void>> Client::call_void(std::string method, std::string path,
                                                std::optional<json::value> body) {
  auto op = call(method, path, {}, std::move(body));
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  co_return Result<void>{};
}

template <class T, class F>
asio::awaitable<Result<std::vector<T>>> Client::paged(std::string path, std::string what, F item) {
  std::vector<T> out;
  net::FieldReader f(what);  // the items' numbers, each within its range
  for (int page = 1;; ++page) {
    json::value keep;
    auto op =
        call_object("POST", path, {}, json::object{{"currentPage", page}, {"pageSize", 100}}, keep);
    auto o = co_await std::move(op);
    if (!o) co_return fail(o.error());
    auto data = (*o)->if_contains("data");
    if (!data || !data->is_array()) co_return fail(ErrorKind::Protocol, what + ": no data list");
    for (const auto& x : data->as_array())
      if (x.is_object()) out.push_back(item(x.as_object(), f));
    if (f.error()) co_return fail(*f.error());
    if (data->as_array().empty() || double(out.size()) >= num(**o, "total")) break;
  }
  co_return out;
}

namespace {

Setting setting_of(const json::object& o) {
  Setting s{str(o, "value"), str(o, "unit"), num(o, "precision"), {}, {}, {}};
  if (auto range = o.if_contains("range"); range && range->is_object()) {
    s.min = num(range->as_object(), "min");
    s.max = num(range->as_object(), "max");
  }
  if (auto list = o.if_contains("enumList"); list && list->is_array())
    for (const auto& x : list->as_array()) s.choices.push_back(text_of(x));
  return s;
}

json::object plant_json(const PlantSpec& p) {
  json::array devices;
  for (const auto& [sn, key] : p.modules) devices.push_back(json::object{{"sn", sn}, {"key", key}});
  return json::object{{"details", json::object{{"name", p.name},
                                               {"type", p.type},
                                               {"countryCode", p.country_code},
                                               {"city", p.city},
                                               {"address", p.address},
                                               {"postcode", p.postcode}}},
                      {"timezone", p.timezone},
                      {"devices", devices}};
}

Result<PlantCreated> created_of(const json::object& o) {
  net::FieldReader f("FoxESS plant");
  PlantCreated out{str(o, "stationID"), {}};
  if (auto d = o.if_contains("devices"); d && d->is_array())
    for (const auto& x : d->as_array())
      if (x.is_object())
        out.modules.emplace_back(str(x.as_object(), "sn"),
                                 int(f.integer(x.as_object(), "errno", INT32_MIN, INT32_MAX)));
  return f.result(std::move(out));
}

// enable1 comes as a string ("true", "1") from get and goes as a boolean to set.
bool truthy(const json::value* v) {
  if (!v) return false;
  if (v->is_bool()) return v->as_bool();
  auto t = text_of(*v);
  return t == "true" || t == "True" || t == "1";
}

std::vector<RealTime> real_time_of(const json::array& a) {
  std::vector<RealTime> out;
  for (const auto& item : a) {
    if (!item.is_object()) continue;
    const auto& d = item.as_object();
    RealTime rt{str(d, "deviceSN"), str(d, "time"), {}};
    if (auto datas = d.if_contains("datas"); datas && datas->is_array())
      for (const auto& x : datas->as_array()) {
        if (!x.is_object()) continue;
        auto v = x.as_object().if_contains("value");
        auto value = v ? net::as_double(*v) : std::nullopt;
        if (!value) continue;  // a variable without data carries no number
        rt.data.push_back({str(x.as_object(), "variable"), str(x.as_object(), "unit"), *value});
      }
    out.push_back(std::move(rt));
  }
  return out;
}

}  // namespace

// --- power stations ------------------------------------------------------------------------

asio::awaitable<Result<PlantCreated>> Client::create_plant(PlantSpec spec) {
  json::value keep;
  auto op = call_object("POST", "/op/v0/plant/create", {}, json::value(plant_json(spec)), keep);
  auto o = co_await std::move(op);
  if (!o) co_return fail(o.error());
  co_return created_of(**o);
}

asio::awaitable<Result<PlantCreated>> Client::update_plant(std::string station_id, PlantSpec spec) {
  auto body = plant_json(spec);
  body["details"].as_object()["stationID"] = station_id;
  json::value keep;
  auto op = call_object("POST", "/op/v0/plant/update", {}, json::value(body), keep);
  auto o = co_await std::move(op);
  if (!o) co_return fail(o.error());
  co_return created_of(**o);
}

asio::awaitable<Result<void>> Client::delete_plant(std::string station_id) {
  auto op = call_void("POST", "/op/v0/plant/delete", json::object{{"stationID", station_id}});
  co_return co_await std::move(op);
}

// --- inverters -----------------------------------------------------------------------------

asio::awaitable<Result<std::map<int, std::string>>> Client::fault_codes() {
  auto op = call("GET", "/op/v0/device/fault/get", {}, std::nullopt);
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto a = array_of(*r, "FoxESS fault codes");
  if (!a) co_return fail(a.error());
  std::map<int, std::string> out;
  for (const auto& item : **a)
    if (item.is_object())
      for (const auto& [code, texts] : item.as_object()) {
        int n = 0;
        auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), n);
        if (ec != std::errc() || p != code.data() + code.size()) continue;
        out[n] = texts.is_object() ? str(texts.as_object(), "en") : "";
      }
  co_return out;
}

asio::awaitable<Result<std::vector<RealTime>>> Client::real_time_v0(
    std::string sn, std::vector<std::string> variables) {
  json::object body;
  if (!sn.empty()) body["sn"] = sn;
  if (!variables.empty()) body["variables"] = strings(variables);
  auto op = call("POST", "/op/v0/device/real/query", {}, json::value(body));
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto a = array_of(*r, "FoxESS real-time query (v0)");
  if (!a) co_return fail(a.error());
  co_return real_time_of(**a);
}

asio::awaitable<Result<ForceCharge>> Client::force_charge(std::string sn) {
  json::value keep;
  auto op = call_object("GET", "/op/v0/device/battery/forceChargeTime/get", {{"sn", sn}},
                        std::nullopt, keep);
  auto o = co_await std::move(op);
  if (!o) co_return fail(o.error());
  ForceCharge out;
  net::FieldReader f("FoxESS force-charge time");
  for (int i = 0; i < 2; ++i) {
    auto n = std::to_string(i + 1);
    auto& w = out[std::size_t(i)];
    w.enable = truthy((*o)->if_contains("enable" + n));
    auto s = (*o)->if_contains("startTime" + n), e = (*o)->if_contains("endTime" + n);
    if (!s || !s->is_object() || !e || !e->is_object())
      co_return fail(ErrorKind::Protocol,
                     "FoxESS force-charge time: startTime" + n + " / endTime" + n + " missing");
    w.start_hour = int(f.integer(s->as_object(), "hour", 0, 24));
    w.start_minute = int(f.integer(s->as_object(), "minute", 0, 59));
    w.end_hour = int(f.integer(e->as_object(), "hour", 0, 24));
    w.end_minute = int(f.integer(e->as_object(), "minute", 0, 59));
  }
  co_return f.result(out);
}

asio::awaitable<Result<void>> Client::set_force_charge(std::string sn, ForceCharge windows) {
  json::object body{{"sn", sn}};
  for (int i = 0; i < 2; ++i) {
    auto n = std::to_string(i + 1);
    const auto& w = windows[std::size_t(i)];
    body["enable" + n] = w.enable;
    body["startTime" + n] = json::object{{"hour", w.start_hour}, {"minute", w.start_minute}};
    body["endTime" + n] = json::object{{"hour", w.end_hour}, {"minute", w.end_minute}};
  }
  auto op = call_void("POST", "/op/v0/device/battery/forceChargeTime/set", json::value(body));
  co_return co_await std::move(op);
}

asio::awaitable<Result<DeviceTime>> Client::device_time(std::string sn) {
  json::value keep;
  auto op = call_object("POST", "/op/v0/device/time/get", {}, json::object{{"sn", sn}}, keep);
  auto o = co_await std::move(op);
  if (!o) co_return fail(o.error());
  const auto& d = **o;
  // Each field within its range: a number out of int's range was undefined behaviour here (a
  // fuzz finding, "year":"2021111…16").
  net::FieldReader f("FoxESS device time");
  DeviceTime t{int(f.integer(d, "year", 0, 9999)), int(f.integer(d, "month", 1, 12)),
               int(f.integer(d, "day", 1, 31)),    int(f.integer(d, "hour", 0, 23)),
               int(f.integer(d, "minute", 0, 59)), int(f.integer(d, "second", 0, 60))};
  co_return f.result(t);
}

asio::awaitable<Result<void>> Client::set_device_time(std::string sn, DeviceTime t) {
  auto op = call_void("POST", "/op/v0/device/time/set",
                      json::object{{"sn", sn},
                                   {"year", std::to_string(t.year)},
                                   {"month", std::to_string(t.month)},
                                   {"day", std::to_string(t.day)},
                                   {"hour", std::to_string(t.hour)},
                                   {"minute", std::to_string(t.minute)},
                                   {"second", std::to_string(t.second)}});
  co_return co_await std::move(op);
}

asio::awaitable<Result<PeakShavingSetting>> Client::peak_shaving(std::string sn) {
  json::value keep;
  auto op =
      call_object("POST", "/op/v0/device/peakShaving/get", {}, json::object{{"sn", sn}}, keep);
  auto o = co_await std::move(op);
  if (!o) co_return fail(o.error());
  auto limit = (*o)->if_contains("importLimit"), soc = (*o)->if_contains("soc");
  if (!limit || !limit->is_object() || !soc || !soc->is_object())
    co_return fail(ErrorKind::Protocol, "FoxESS peak shaving: importLimit or soc missing");
  co_return PeakShavingSetting{setting_of(limit->as_object()), setting_of(soc->as_object())};
}

asio::awaitable<Result<void>> Client::set_peak_shaving(std::string sn, double import_limit,
                                                       int soc) {
  auto op = call_void("POST", "/op/v0/device/peakShaving/set",
                      json::object{{"sn", sn}, {"importLimit", import_limit}, {"soc", soc}});
  co_return co_await std::move(op);
}

// --- scheduler -----------------------------------------------------------------------------

asio::awaitable<Result<SchedulerFlag>> Client::scheduler_flag(std::string sn, bool v1) {
  json::value keep;
  auto op =
      call_object("POST", std::string(v1 ? "/op/v1" : "/op/v0") + "/device/scheduler/get/flag", {},
                  json::object{{"deviceSN", sn}}, keep);
  auto o = co_await std::move(op);
  if (!o) co_return fail(o.error());
  co_return SchedulerFlag{num(**o, "support") == 1, num(**o, "enable") == 1};
}

asio::awaitable<Result<void>> Client::set_scheduler_flag(std::string sn, bool enable, bool v1) {
  auto op = call_void("POST", std::string(v1 ? "/op/v1" : "/op/v0") + "/device/scheduler/set/flag",
                      json::object{{"deviceSN", sn}, {"enable", enable ? 1 : 0}});
  co_return co_await std::move(op);
}

asio::awaitable<Result<Schedule>> Client::scheduler(std::string sn, bool v1) {
  auto path = std::string(v1 ? "/op/v1" : "/op/v0") + "/device/scheduler/get";
  auto op = call("POST", path, {}, json::object{{"deviceSN", sn}});
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  Schedule out;
  // `result` may be null when the mode was set in the app (protocols.md §2.3): no schedule.
  if (r->is_null()) co_return out;
  auto o = object_of(*r, "FoxESS " + path);
  if (!o) co_return fail(o.error());
  if (auto e = (*o)->if_contains("enable")) out.enabled = text_of(*e) == "1";
  if (auto g = (*o)->if_contains("groups"); g && g->is_array())
    for (const auto& x : g->as_array()) {
      auto group = x.is_object() ? group_from_json(x.as_object()) : std::nullopt;
      if (!group)
        co_return fail(ErrorKind::Protocol,
                       "FoxESS " + path + ": a group lacks a field or has a non-number in it");
      out.groups.push_back(*group);
    }
  if (auto p = (*o)->if_contains("properties"); p && p->is_object()) {
    auto lo = [&](const char* key) -> std::optional<double> {
      auto f = p->as_object().if_contains(key);
      if (!f || !f->is_object()) return std::nullopt;
      auto range = f->as_object().if_contains("range");
      if (!range || !range->is_object()) return std::nullopt;
      return num(range->as_object(), "min");
    };
    auto hi = [&](const char* key) -> std::optional<double> {
      auto f = p->as_object().if_contains(key);
      if (!f || !f->is_object()) return std::nullopt;
      auto range = f->as_object().if_contains("range");
      if (!range || !range->is_object()) return std::nullopt;
      return num(range->as_object(), "max");
    };
    // SoC bounds are percentages (cast unchecked, a number past int was undefined behaviour).
    net::FieldReader f("FoxESS " + path + " properties");
    if (auto v = lo("minSocOnGrid"))
      out.limits.min_soc_on_grid_min = int(f.integer(*v, "minSocOnGrid.range.min", 0, 100));
    if (auto v = lo("fdSoc")) out.limits.fd_soc_min = int(f.integer(*v, "fdSoc.range.min", 0, 100));
    if (auto v = hi("fdPwr")) out.limits.fd_pwr_max = f.finite(*v, "fdPwr.range.max");
    if (f.error()) co_return fail(*f.error());
  }
  co_return out;
}

asio::awaitable<Result<void>> Client::set_scheduler(std::string sn,
                                                    std::vector<SchedulerGroup> groups, bool v1) {
  json::array a;
  for (const auto& g : groups) a.push_back(to_request_json(g, v1));
  auto op = call_void("POST", std::string(v1 ? "/op/v1" : "/op/v0") + "/device/scheduler/enable",
                      json::object{{"deviceSN", sn}, {"groups", a}});
  co_return co_await std::move(op);
}

// --- data loggers and meters ---------------------------------------------------------------

asio::awaitable<Result<std::vector<Module>>> Client::modules() {
  auto op = paged<Module>("/op/v0/module/list", "FoxESS module list",
                          [](const json::object& m, net::FieldReader& f) {
                            return Module{str(m, "moduleSN"), str(m, "stationID"),
                                          as_int(f, m, "status"), as_int(f, m, "signal")};
                          });
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<Meter>>> Client::meters() {
  auto op = paged<
      Meter>("/op/v0/gw/list", "FoxESS meter list", [](const json::object& m, net::FieldReader& f) {
    return Meter{str(m, "sn"), str(m, "stationID"), str(m, "stationName"), as_int(f, m, "status")};
  });
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::map<std::string, Setting>>> Client::meter_settings(std::string sn) {
  json::value keep;
  auto op = call_object("POST", "/op/v0/gw/setting/get", {}, json::object{{"sn", sn}}, keep);
  auto o = co_await std::move(op);
  if (!o) co_return fail(o.error());
  std::map<std::string, Setting> out;
  for (const auto& [key, v] : **o)
    if (v.is_object()) out[std::string(key)] = setting_of(v.as_object());
  co_return out;
}

asio::awaitable<Result<void>> Client::set_meter_settings(
    std::string sn, std::map<std::string, std::string> values) {
  json::object body{{"sn", sn}};
  for (const auto& [k, v] : values) body[k] = v;
  auto op = call_void("POST", "/op/v0/gw/setting/set", json::value(body));
  co_return co_await std::move(op);
}

// --- OAuth ---------------------------------------------------------------------------------

std::string Client::authorize_url(const net::Endpoint& cloud, const std::string& client_id,
                                  const std::string& redirect_uri, const std::string& scope,
                                  const std::string& state) {
  auto url = cloud.str() +
             "/public/auth/index.html?response_type=code&client_id=" + net::url_encode(client_id) +
             "&redirect_uri=" + net::url_encode(redirect_uri) + "&scope=" + net::url_encode(scope);
  if (!state.empty()) url += "&state=" + net::url_encode(state);
  return url;
}

asio::awaitable<Result<OAuthTokens>> Client::token_call(std::string path,
                                                        std::map<std::string, std::string> params) {
  const std::string what = "FoxESS " + path;
  net::HttpRequest req;
  req.method = "POST";
  req.target = path;
  char sep = '?';
  for (const auto& [k, v] : params) {  // the seed's templates carry them in the query
    req.target += sep + net::url_encode(k) + "=" + net::url_encode(v);
    sep = '&';
  }
  req.timeout = timeout_;
  auto op = http_.request(endpoint_, std::move(req));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  co_return net::parse_token_answer(r->status, r->body, what);
}

asio::awaitable<Result<OAuthTokens>> Client::exchange_code(std::string client_id,
                                                           std::string client_secret,
                                                           std::string code,
                                                           std::string redirect_uri) {
  auto op = token_call("/oauth2/token", {{"grant_type", "authorization_code"},
                                         {"client_id", client_id},
                                         {"client_secret", client_secret},
                                         {"code", code},
                                         {"redirect_uri", redirect_uri}});
  co_return co_await std::move(op);
}

asio::awaitable<Result<OAuthTokens>> Client::refresh_tokens(std::string client_id,
                                                            std::string client_secret,
                                                            std::string refresh_token) {
  auto op = token_call("/oauth2/refresh", {{"grant_type", "refresh_token"},
                                           {"client_id", client_id},
                                           {"client_secret", client_secret},
                                           {"refresh_token", refresh_token}});
  co_return co_await std::move(op);
}

asio::awaitable<Result<void>> Client::revoke(std::string client_id, std::string client_secret,
                                             std::string access_token) {
  net::HttpRequest req;
  req.method = "POST";
  req.target = "/oauth2/revoke?client_id=" + net::url_encode(client_id) +
               "&client_secret=" + net::url_encode(client_secret) +
               "&access_token=" + net::url_encode(access_token);
  req.timeout = timeout_;
  auto op = http_.request(endpoint_, std::move(req));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), "FoxESS /oauth2/revoke"));
  if (r->status != 200)
    co_return fail(r->status == 401 ? ErrorKind::Auth : ErrorKind::Protocol,
                   "FoxESS /oauth2/revoke: HTTP " + std::to_string(r->status) + " " + r->body);
  co_return Result<void>{};
}

}  // namespace sb::foxess
