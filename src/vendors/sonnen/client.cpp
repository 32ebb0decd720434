#include "vendors/sonnen/client.hpp"

#include <boost/json.hpp>
#include <cctype>

namespace sb::sonnen {

Error error_from_reply(const net::HttpResponse& r, std::string_view what) {
  auto code = parse_return_code(r.body);
  std::string detail = std::string(what) + ": HTTP " + std::to_string(r.status);
  if (code) detail += " (ReturnCode " + std::to_string(*code) + ")";
  Error e{ErrorKind::Protocol, detail};
  e.vendor_code = code.value_or(0);
  if (r.status == 404) {
    e.kind = ErrorKind::NotFound;
    e.message += ": invalid request path";
  } else if (r.status == 405) {
    e.message += ": invalid HTTP method";
  } else if (r.status == 400) {
    e.kind = ErrorKind::InvalidArgument;
    e.message += ": request rejected";
  } else if (r.status == 401 || r.status == 403) {
    e.kind = ErrorKind::Auth;
    e.message += ": access refused";
  } else if (r.status >= 500) {
    e.kind = ErrorKind::Transport;  // the device's internal error (13) passes: retry later
    e.message += ": internal error on the device";
  }
  return e;
}

asio::awaitable<Result<net::HttpResponse>> Client::call(std::string method, std::string target) {
  net::HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.headers.emplace_back("Accept", "*/*");
  req.timeout = timeout_;
  auto op = http_.request(endpoint_, std::move(req));
  co_return co_await std::move(op);
}

asio::awaitable<Result<StatusV1>> Client::status() {
  auto op = call("GET", "/api/v1/status");
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), "sonnen status"));
  if (r->status != 200) co_return fail(error_from_reply(*r, "sonnen status"));
  co_return parse_status(r->body);
}

asio::awaitable<Result<void>> Client::setpoint(std::string direction, int watts) {
  const std::string what = "sonnen " + direction + " setpoint";
  if (watts < 0) co_return fail(ErrorKind::InvalidArgument, what + " must be >= 0 W");
  auto op = call("PUT", "/api/v1/setpoint/" + direction + "/" + std::to_string(watts));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  if (r->status != 200) co_return fail(error_from_reply(*r, what));
  // A 200 whose body carries a non-zero ReturnCode is a refusal all the same.
  if (auto code = parse_return_code(r->body); code && *code != 0)
    co_return fail(error_from_reply(*r, what));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Client::set_charge(int watts) {
  auto op = setpoint("charge", watts);
  co_return co_await std::move(op);
}

asio::awaitable<Result<void>> Client::set_discharge(int watts) {
  auto op = setpoint("discharge", watts);
  co_return co_await std::move(op);
}

asio::awaitable<Result<void>> Client::set_battery_power(int watts) {
  auto op = watts >= 0 ? setpoint("discharge", watts) : setpoint("charge", -watts);
  co_return co_await std::move(op);
}

}  // namespace sb::sonnen

// --- API v2 ---------------------------------------------------------------------------------

namespace sb::sonnen {

namespace json = boost::json;

Error error_from_v2_reply(const net::HttpResponse& r, std::string_view what) {
  std::string detail = std::string(what) + ": HTTP " + std::to_string(r.status);
  try {
    auto v = json::parse(r.body);
    if (v.is_object()) {
      const auto& o = v.as_object();
      if (auto e = o.if_contains("error"); e && e->is_string())
        detail += ": " + std::string(e->as_string());
      if (auto d = o.if_contains("details"); d && d->is_object())
        for (const auto& [k, m] : d->as_object())
          detail += " (" + std::string(k) + ": " +
                    (m.is_string() ? std::string(m.as_string()) : json::serialize(m)) + ")";
    }
  } catch (const std::exception&) {
  }
  Error e{ErrorKind::Protocol, detail};
  if (r.status == 401) {
    e.kind = ErrorKind::Auth;
    e.message += ": the Auth-Token was refused (dashboard: Software-Integration)";
  } else if (r.status == 403) {
    e.kind = ErrorKind::Conflict;
  } else if (r.status == 404) {
    e.kind = ErrorKind::NotFound;
  } else if (r.status == 400) {
    e.kind = ErrorKind::InvalidArgument;
  } else if (r.status >= 500) {
    e.kind = ErrorKind::Transport;
  }
  return e;
}

asio::awaitable<Result<net::HttpResponse>> ClientV2::call(std::string method, std::string target,
                                                          std::string body) {
  net::HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.headers.emplace_back("Accept", "application/json");
  if (!token_.empty()) req.headers.emplace_back("Auth-Token", token_);
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  req.timeout = timeout_;
  auto op = http_.request(endpoint_, std::move(req));
  co_return co_await std::move(op);
}

asio::awaitable<Result<json::value>> ClientV2::get_json(std::string path) {
  const std::string what = "sonnen " + path;
  auto op = call("GET", "/api/v2/" + path);
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  if (r->status != 200) co_return fail(error_from_v2_reply(*r, what));
  json::value v;
  try {
    v = json::parse(r->body);
  } catch (const std::exception& e) {
    co_return fail(ErrorKind::Protocol, what + ": not JSON (" + e.what() + ")");
  }
  // Older firmware answers a wrong token with 200 and an empty object (protocols.md §3.2).
  if (v.is_object() && v.as_object().empty() && path != "io")
    co_return fail(ErrorKind::Auth, what +
                                        ": the battery answered {} — older firmware does that "
                                        "for a wrong Auth-Token");
  co_return v;
}

asio::awaitable<Result<StatusV1>> ClientV2::status() {
  auto op = call("GET", "/api/v2/status");
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), "sonnen v2 status"));
  if (r->status != 200) co_return fail(error_from_v2_reply(*r, "sonnen v2 status"));
  co_return parse_status(r->body);
}

asio::awaitable<Result<bool>> ClientV2::offers_v2() {
  auto op = call("GET", "/api/v2/status");
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), "sonnen v2 status"));
  if (r->status == 404) co_return false;
  if (r->status != 200) co_return fail(error_from_v2_reply(*r, "sonnen v2 status"));
  co_return parse_status(r->body).has_value();
}

namespace {
template <class T>
Result<T> shaped(Result<json::value> v, std::string_view what) {
  if (!v) return fail(v.error());
  if constexpr (std::is_same_v<T, json::object>) {
    if (!v->is_object()) return fail(ErrorKind::Protocol, std::string(what) + ": not an object");
    return v->as_object();
  } else {
    if (!v->is_array()) return fail(ErrorKind::Protocol, std::string(what) + ": not an array");
    return v->as_array();
  }
}
}  // namespace

asio::awaitable<Result<json::object>> ClientV2::get_object(std::string path) {
  auto op = get_json(path);
  co_return shaped<json::object>(co_await std::move(op), "sonnen " + path);
}
asio::awaitable<Result<json::object>> ClientV2::latest_data() {
  return get_object("latestdata");
}
asio::awaitable<Result<json::object>> ClientV2::battery() {
  return get_object("battery");
}
asio::awaitable<Result<json::object>> ClientV2::inverter() {
  return get_object("inverter");
}
asio::awaitable<Result<json::object>> ClientV2::io() {
  return get_object("io");
}
asio::awaitable<Result<json::array>> ClientV2::powermeter() {
  auto op = get_json("powermeter");
  co_return shaped<json::array>(co_await std::move(op), "sonnen powermeter");
}

namespace {
Result<std::map<std::string, std::string>> string_map(const json::value& v, std::string_view what) {
  if (!v.is_object()) return fail(ErrorKind::Protocol, std::string(what) + ": not an object");
  std::map<std::string, std::string> out;
  for (const auto& [k, x] : v.as_object()) {
    // Values are strings on the wire; a number from other firmware is taken as its text.
    if (x.is_string())
      out[std::string(k)] = std::string(x.as_string());
    else if (x.is_number() || x.is_bool())
      out[std::string(k)] = json::serialize(x);
    else
      out[std::string(k)] = json::serialize(x);
  }
  return out;
}
}  // namespace

asio::awaitable<Result<std::map<std::string, std::string>>> ClientV2::configurations() {
  auto op = get_json("configurations");
  auto v = co_await std::move(op);
  if (!v) co_return fail(v.error());
  co_return string_map(*v, "sonnen configurations");
}

asio::awaitable<Result<std::string>> ClientV2::configuration(std::string key) {
  auto op = get_json("configurations/" + key);
  auto v = co_await std::move(op);
  if (!v) co_return fail(v.error());
  auto m = string_map(*v, "sonnen configuration " + key);
  if (!m) co_return fail(m.error());
  auto it = m->find(key);
  if (it == m->end())
    co_return fail(ErrorKind::Protocol, "sonnen configuration " + key + ": not in the answer");
  co_return it->second;
}

asio::awaitable<Result<std::map<std::string, std::string>>> ClientV2::set_configurations(
    std::map<std::string, std::string> items) {
  json::object body;
  for (const auto& [k, v] : items) body[k] = v;
  const std::string what = "sonnen PUT configurations";
  auto op = call("PUT", "/api/v2/configurations", json::serialize(body));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  if (r->status != 200) co_return fail(error_from_v2_reply(*r, what));
  json::value v;
  try {
    v = json::parse(r->body);
  } catch (const std::exception& e) {
    co_return fail(ErrorKind::Protocol, what + ": not JSON (" + e.what() + ")");
  }
  co_return string_map(v, what);
}

asio::awaitable<Result<void>> ClientV2::set_battery_power(int watts) {
  std::string dir = watts >= 0 ? "discharge" : "charge";
  const std::string what = "sonnen " + dir + " setpoint";
  auto op = call("POST", "/api/v2/setpoint/" + dir + "/" + std::to_string(std::abs(watts)));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  if (r->status != 200) co_return fail(error_from_v2_reply(*r, what));
  // The device answers the JSON literal true; anything else is not an acceptance.
  auto body = std::string_view(r->body);
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back())))
    body.remove_suffix(1);
  if (body != "true")
    co_return fail(ErrorKind::Protocol, what + ": the battery answered '" +
                                            std::string(body.substr(0, 80)) + "', not true");
  co_return Result<void>{};
}

}  // namespace sb::sonnen
