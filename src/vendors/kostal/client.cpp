#include "vendors/kostal/client.hpp"

#include <boost/json.hpp>

#include "net/blocking.hpp"
#include "net/crypto.hpp"
#include "net/json.hpp"
#include "net/json_stream.hpp"
#include "vendors/kostal/scram.hpp"

namespace sb::kostal {

namespace json = boost::json;

namespace {

const std::string kBase = "/api/v1";

std::string device_message(const std::string& body) {
  auto o = net::parse_json_object(body, "error body");
  if (!o) return "";
  if (auto m = o->if_contains("message"); m && m->is_string()) return std::string(m->as_string());
  return "";
}

Result<json::array> parse_array(std::string_view body, const std::string& what) {
  auto v = net::parse_json(body, what);
  if (!v) return fail(v.error());
  if (!v->is_array()) return fail(ErrorKind::Protocol, what + ": a JSON array was expected");
  return std::move(v->as_array());
}

Result<json::object> object_at(const json::value& v, const std::string& what) {
  if (!v.is_object()) return fail(ErrorKind::Protocol, what + ": items must be objects");
  return v.as_object();
}

std::optional<std::string> optional_text(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_string()) return std::string(v->as_string());
  if (auto d = net::as_double(*v)) return net::to_json(*v);
  return std::nullopt;
}

Result<ModuleValues> parse_module_values(const json::value& v, const std::string& what) {
  auto o = object_at(v, what);
  if (!o) return fail(o.error());
  ModuleValues m;
  auto mid = net::get_string(*o, "moduleid", what);
  if (!mid) return fail(mid.error());
  m.module = *mid;
  auto pd = o->if_contains("processdata");
  if (!pd || !pd->is_array())
    return fail(ErrorKind::Protocol, what + ": 'processdata' of " + m.module + " is missing");
  for (const auto& item : pd->as_array()) {
    auto p = object_at(item, what);
    if (!p) return fail(p.error());
    auto id = net::get_string(*p, "id", what + " " + m.module);
    if (!id) return fail(id.error());
    auto value = net::get_number(*p, "value", what + " " + m.module + "/" + *id, true);
    if (!value) return fail(value.error());
    m.values.push_back({*id, optional_text(*p, "unit").value_or(""), *value});
  }
  return m;
}

std::string ids_json(const std::vector<std::string>& ids) {
  json::array a;
  for (const auto& id : ids) a.push_back(json::value(id));
  return net::to_json(a);
}

}  // namespace

std::optional<double> ModuleValues::get(std::string_view id) const {
  for (const auto& v : values)
    if (v.id == id) return v.value;
  return std::nullopt;
}

Error error_from_reply(const net::HttpResponse& r, std::string_view what) {
  auto msg = device_message(r.body);
  std::string detail = std::string(what) + ": HTTP " + std::to_string(r.status);
  if (!msg.empty()) detail += " \"" + msg + "\"";
  Error e{ErrorKind::Protocol, detail};
  switch (r.status) {
    case 400:
      e.kind = ErrorKind::InvalidArgument;
      break;
    case 401:
      e.kind = ErrorKind::Auth;
      e.message += " (no valid session)";
      break;
    case 403:
      e.kind = ErrorKind::Auth;
      break;
    case 404:
      e.kind = ErrorKind::NotFound;
      break;
    default:
      // 503 "Internal communication error" comes at night and while the board boots.
      if (r.status >= 500) e.kind = ErrorKind::Transport;
  }
  return e;
}

Client::Client(net::HttpClient& http, net::Endpoint endpoint, Credentials credentials,
               Millis timeout, asio::thread_pool* blocking)
    : http_(http),
      endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      timeout_(timeout),
      blocking_(blocking) {}

asio::awaitable<Result<net::HttpResponse>> Client::send(std::string method, std::string target,
                                                        std::string body, bool with_session) {
  net::HttpRequest req;
  req.method = std::move(method);
  req.target = kBase + target;
  req.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  if (with_session && !session_.empty())
    req.headers.emplace_back("authorization", "Session " + session_);
  req.body = std::move(body);
  req.timeout = timeout_;
  auto op = http_.request(endpoint_, std::move(req));
  co_return co_await std::move(op);
}

asio::awaitable<Result<void>> Client::login() {
  if (needs_credentials_) co_return fail(ErrorKind::Auth, credentials_error_);
  session_.clear();
  const std::string user = credentials_.role;
  const std::string what = "KOSTAL login as '" + user + "'";
  // 1. auth/start with a 12-byte client nonce.
  const std::string client_nonce = crypto::base64_encode(crypto::random_bytes(12));
  auto start_op =
      send("POST", "/auth/start",
           net::to_json(json::object{{"username", user}, {"nonce", client_nonce}}), false);
  auto start = co_await std::move(start_op);
  if (!start) co_return fail(with_context(start.error(), what));
  if (start->status != 200) {
    auto e = error_from_reply(*start, what + " (auth/start)");
    e.kind = start->status >= 500 ? ErrorKind::Transport : ErrorKind::Auth;
    if (start->status == 403) e.message += ": the device has locked this user for a while";
    co_return fail(e);
  }
  auto first = net::parse_json_object(start->body, what + " (auth/start)");
  if (!first) co_return fail(first.error());
  auto nonce = net::get_string(*first, "nonce", "auth/start");
  auto txn = net::get_string(*first, "transactionId", "auth/start");
  auto salt = net::get_string(*first, "salt", "auth/start");
  // Real devices ask for 29000 PBKDF2 rounds; far more would tie up a core for minutes.
  auto rounds = net::get_integer(*first, "rounds", "auth/start", 1, 1'000'000);
  if (!nonce) co_return fail(nonce.error());
  if (!txn) co_return fail(txn.error());
  if (!salt) co_return fail(salt.error());
  if (!rounds) co_return fail(rounds.error());
  // 2. PBKDF2 (29000 rounds on real devices) off the I/O threads.
  const std::string password = credentials_.password;
  const std::string n = *nonce, s = *salt;
  const int i = static_cast<int>(*rounds);
  auto derive = [user, password, client_nonce, n, s, i] {
    return derive_client_keys(user, password, client_nonce, n, s, i);
  };
  Result<ClientKeys> keys = fail(ErrorKind::Internal, "not derived");
  if (blocking_) {
    auto op = net::run_blocking(*blocking_, derive);
    keys = co_await std::move(op);
  } else {
    keys = derive();
  }
  if (!keys) co_return fail(with_context(keys.error(), what));
  // 3. auth/finish with the proof; the server must prove it knows the password too.
  auto finish_op = send("POST", "/auth/finish",
                        net::to_json(json::object{{"transactionId", *txn},
                                                  {"proof", crypto::base64_encode(keys->proof)}}),
                        false);
  auto finish = co_await std::move(finish_op);
  if (!finish) co_return fail(with_context(finish.error(), what));
  if (finish->status != 200) {
    auto e = error_from_reply(*finish, what + " (auth/finish)");
    if (finish->status == 400) {
      // The device counts wrong passwords and locks the user: never try this password again.
      needs_credentials_ = true;
      credentials_error_ = what + ": the device refused the password" +
                           (user == "master" ? " (master key)" : "") +
                           "; needs credentials: fix the password in the configuration";
      co_return fail(ErrorKind::Auth, credentials_error_);
    }
    co_return fail(e);
  }
  auto second = net::parse_json_object(finish->body, what + " (auth/finish)");
  if (!second) co_return fail(second.error());
  auto token = net::get_string(*second, "token", "auth/finish");
  auto signature = net::get_string(*second, "signature", "auth/finish");
  if (!token) co_return fail(token.error());
  if (!signature) co_return fail(signature.error());
  auto sig = crypto::base64_decode(*signature);
  if (!sig || !crypto::equal_constant_time(*sig, keys->server_signature))
    co_return fail(ErrorKind::Auth, what +
                                        ": the server's signature does not match; this is not "
                                        "the device the password belongs to");
  // 4. auth/create_session with the token sealed under the session key (16-byte IV).
  auto key = protocol_key(keys->stored_key, keys->auth_message, keys->client_key);
  auto iv = crypto::random_bytes(16);
  std::string plain = *token;
  if (user == "master") plain += ":" + credentials_.service_code;
  auto sealed = crypto::aes256gcm_encrypt(key, iv, plain);
  if (!sealed) co_return fail(with_context(sealed.error(), what));
  auto session_op =
      send("POST", "/auth/create_session",
           net::to_json(json::object{{"transactionId", *txn},
                                     {"iv", crypto::base64_encode(iv)},
                                     {"tag", crypto::base64_encode(sealed->tag)},
                                     {"payload", crypto::base64_encode(sealed->ciphertext)}}),
           false);
  auto session = co_await std::move(session_op);
  if (!session) co_return fail(with_context(session.error(), what));
  if (session->status != 200) {
    auto e = error_from_reply(*session, what + " (auth/create_session)");
    if (session->status == 400) {
      e.kind = ErrorKind::Auth;
      if (user == "master") {
        needs_credentials_ = true;
        credentials_error_ = what + ": the device refused the service code; needs credentials";
        e.message = credentials_error_;
      }
    }
    co_return fail(e);
  }
  auto third = net::parse_json_object(session->body, what + " (auth/create_session)");
  if (!third) co_return fail(third.error());
  auto id = net::get_string(*third, "sessionId", "auth/create_session");
  if (!id) co_return fail(id.error());
  session_ = *id;
  ++logins_;
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Client::logout() {
  if (session_.empty()) co_return Result<void>{};
  auto op = send("POST", "/auth/logout", "", true);
  auto r = co_await std::move(op);
  session_.clear();
  if (!r) co_return fail(with_context(r.error(), "KOSTAL logout"));
  if (r->status != 200 && r->status != 401) co_return fail(error_from_reply(*r, "KOSTAL logout"));
  co_return Result<void>{};
}

asio::awaitable<Result<net::HttpResponse>> Client::call(std::string method, std::string target,
                                                        std::string body, std::string what) {
  bool fresh = false;
  if (session_.empty()) {
    auto op = login();
    auto l = co_await std::move(op);
    if (!l) co_return fail(l.error());
    fresh = true;
  }
  auto first_op = send(method, target, body, true);
  auto r = co_await std::move(first_op);
  if (!r) co_return fail(with_context(r.error(), what));
  if (r->status == 401 && !fresh) {
    // Sessions die with a restart and after an idle time: one silent re-login.
    auto op = login();
    auto l = co_await std::move(op);
    if (!l) co_return fail(l.error());
    auto again_op = send(method, target, body, true);
    r = co_await std::move(again_op);
    if (!r) co_return fail(with_context(r.error(), what));
  }
  if (r->status < 200 || r->status >= 300) co_return fail(error_from_reply(*r, what));
  co_return r;
}

asio::awaitable<Result<json::array>> Client::call_array(std::string method, std::string target,
                                                        std::string body, std::string what) {
  auto op = call(std::move(method), std::move(target), std::move(body), what);
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  co_return parse_array(r->body, what);
}

asio::awaitable<Result<VersionInfo>> Client::version() {
  auto op = send("GET", "/info/version", "", false);
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), "KOSTAL info/version"));
  if (r->status != 200) co_return fail(error_from_reply(*r, "KOSTAL info/version"));
  auto o = net::parse_json_object(r->body, "KOSTAL info/version");
  if (!o) co_return fail(o.error());
  VersionInfo v;
  auto name = net::get_string(*o, "name", "info/version");
  auto sw = net::get_string(*o, "sw_version", "info/version");
  if (!name) co_return fail(name.error());
  if (!sw) co_return fail(sw.error());
  v.name = *name;
  v.sw_version = *sw;
  v.hostname = optional_text(*o, "hostname").value_or("");
  v.api_version = optional_text(*o, "api_version").value_or("");
  co_return v;
}

asio::awaitable<Result<MeInfo>> Client::me() {
  auto op = send("GET", "/auth/me", "", true);
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), "KOSTAL auth/me"));
  if (r->status != 200) co_return fail(error_from_reply(*r, "KOSTAL auth/me"));
  auto o = net::parse_json_object(r->body, "KOSTAL auth/me");
  if (!o) co_return fail(o.error());
  MeInfo m;
  m.role = optional_text(*o, "role").value_or("");
  auto flag = [&](std::string_view k) {
    auto v = o->if_contains(k);
    return v && v->is_bool() && v->as_bool();
  };
  m.authenticated = flag("authenticated");
  m.anonymous = flag("anonymous");
  m.locked = flag("locked");
  m.active = flag("active");
  if (auto p = o->if_contains("permissions"); p && p->is_array())
    for (const auto& x : p->as_array())
      if (x.is_string()) m.permissions.emplace_back(x.as_string());
  co_return m;
}

asio::awaitable<Result<std::vector<ModuleInfo>>> Client::modules() {
  auto op = call_array("GET", "/modules", "", "KOSTAL modules");
  auto a = co_await std::move(op);
  if (!a) co_return fail(a.error());
  std::vector<ModuleInfo> out;
  for (const auto& v : *a) {
    auto o = object_at(v, "KOSTAL modules");
    if (!o) co_return fail(o.error());
    auto id = net::get_string(*o, "id", "KOSTAL modules");
    if (!id) co_return fail(id.error());
    out.push_back({*id, optional_text(*o, "type").value_or("")});
  }
  co_return out;
}

asio::awaitable<Result<std::vector<std::pair<std::string, std::vector<std::string>>>>>
Client::process_data_ids() {
  auto op = call_array("GET", "/processdata", "", "KOSTAL processdata");
  auto a = co_await std::move(op);
  if (!a) co_return fail(a.error());
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& v : *a) {
    auto o = object_at(v, "KOSTAL processdata");
    if (!o) co_return fail(o.error());
    auto id = net::get_string(*o, "moduleid", "KOSTAL processdata");
    if (!id) co_return fail(id.error());
    std::vector<std::string> ids;
    if (auto p = o->if_contains("processdataids"); p && p->is_array())
      for (const auto& x : p->as_array())
        if (x.is_string()) ids.emplace_back(x.as_string());
    out.emplace_back(*id, std::move(ids));
  }
  co_return out;
}

asio::awaitable<Result<ModuleValues>> Client::process_data(std::string module,
                                                           std::vector<std::string> ids) {
  std::string target = "/processdata/" + net::url_encode(module);
  if (!ids.empty()) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ",") + net::url_encode(id);
    target += "/" + list;
  }
  const std::string what = "KOSTAL processdata " + module;
  auto op = call_array("GET", target, "", what);
  auto a = co_await std::move(op);
  if (!a) co_return fail(a.error());
  if (a->empty()) co_return fail(ErrorKind::Protocol, what + ": empty answer");
  co_return parse_module_values(a->front(), what);
}

std::string process_data_body(
    const std::vector<std::pair<std::string, std::vector<std::string>>>& request) {
  json::array body;
  for (const auto& item : request) {
    json::array ids;
    for (const auto& id : item.second) ids.push_back(json::value(id));
    body.push_back(json::object{{"moduleid", item.first}, {"processdataids", ids}});
  }
  return net::to_json(body);
}

asio::awaitable<Result<std::vector<ModuleValues>>> Client::process_data(
    std::vector<std::pair<std::string, std::vector<std::string>>> request) {
  auto op = process_data_posted(process_data_body(request));
  co_return co_await std::move(op);
}

asio::awaitable<Result<std::vector<ModuleValues>>> Client::process_data_posted(std::string body) {
  constexpr std::string_view what = "KOSTAL processdata";
  auto op = call("POST", "/processdata", std::move(body), std::string(what));
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  co_return parse_process_data(r->body, what);
}

namespace {

// The fast path's reader of POST processdata: [{"moduleid": text, "processdata": [{"id": text,
// "unit": text or null, "value": number}, …]}, …], other keys skipped whatever they hold.
class ProcessDataSink final : public net::DepthSink {
 public:
  std::vector<ModuleValues> out;

 private:
  enum Key : std::uint8_t { Other, ModuleId, ProcessData, Id, Unit, Value };
  Key key_ = Other;
  unsigned module_seen_ = 0, item_seen_ = 0;  // bits by Key: a key's second value gives up

  bool take(unsigned& seen) {
    unsigned bit = 1u << key_;
    if (seen & bit) return false;
    seen |= bit;
    return true;
  }
  bool on_begin(bool object) override {
    switch (depth()) {
      case 1:  // the answer: an array of modules
        return !object;
      case 2:  // a module
        if (!object) return false;
        out.emplace_back();
        module_seen_ = 0;
        return true;
      case 3:  // its values (a module has up to 16: grown once, not by doubling)
        if (object || key_ != ProcessData || !take(module_seen_)) return false;
        out.back().values.reserve(16);
        return true;
      case 4:  // a value
        if (!object) return false;
        out.back().values.emplace_back();
        item_seen_ = 0;
        return true;
      default:
        return false;
    }
  }
  bool on_end(bool object) override {
    if (!object) return true;
    if (depth() == 1) return module_seen_ == ((1u << ModuleId) | (1u << ProcessData));
    if (depth() == 3)
      return (item_seen_ & ((1u << Id) | (1u << Value))) == ((1u << Id) | (1u << Value));
    return true;
  }
  bool on_key(std::string_view k) override {
    key_ = Other;
    if (depth() == 2) {
      if (k == "moduleid") key_ = ModuleId;
      if (k == "processdata") key_ = ProcessData;
    } else if (depth() == 4) {
      if (k == "id") key_ = Id;
      if (k == "unit") key_ = Unit;
      if (k == "value") key_ = Value;
    }
    if (key_ == Other) skip();
    return true;
  }
  bool on_string(std::string_view v) override {
    if (depth() == 2 && key_ == ModuleId && take(module_seen_)) {
      out.back().module.assign(v);
      return true;
    }
    if (depth() == 4 && (key_ == Id || key_ == Unit) && take(item_seen_)) {
      (key_ == Id ? out.back().values.back().id : out.back().values.back().unit).assign(v);
      return true;
    }
    return false;
  }
  bool on_number(double v) override {
    if (depth() != 4 || key_ != Value || !take(item_seen_)) return false;
    out.back().values.back().value = v;
    return true;
  }
  bool on_null() override { return depth() == 4 && key_ == Unit && take(item_seen_); }
};

}  // namespace

std::optional<std::vector<ModuleValues>> parse_process_data_fast(std::string_view body) {
  ProcessDataSink sink;
  if (!net::stream_json(body, sink)) return std::nullopt;
  return std::move(sink.out);
}

Result<std::vector<ModuleValues>> parse_process_data_full(std::string_view body,
                                                          std::string_view what) {
  const std::string w(what);
  auto a = parse_array(body, w);
  if (!a) return fail(a.error());
  std::vector<ModuleValues> out;
  for (const auto& v : *a) {
    auto m = parse_module_values(v, w);
    if (!m) return fail(m.error());
    out.push_back(std::move(*m));
  }
  return out;
}

Result<std::vector<ModuleValues>> parse_process_data(std::string_view body, std::string_view what) {
  if (auto fast = parse_process_data_fast(body)) return std::move(*fast);
  return parse_process_data_full(body, what);
}

asio::awaitable<Result<std::vector<ModuleSettings>>> Client::settings_meta() {
  auto op = call_array("GET", "/settings", "", "KOSTAL settings");
  auto a = co_await std::move(op);
  if (!a) co_return fail(a.error());
  std::vector<ModuleSettings> out;
  for (const auto& v : *a) {
    auto o = object_at(v, "KOSTAL settings");
    if (!o) co_return fail(o.error());
    auto mid = net::get_string(*o, "moduleid", "KOSTAL settings");
    if (!mid) co_return fail(mid.error());
    ModuleSettings m{*mid, {}};
    if (auto list = o->if_contains("settings"); list && list->is_array())
      for (const auto& s : list->as_array()) {
        if (!s.is_object()) continue;
        const auto& so = s.as_object();
        SettingMeta meta;
        meta.id = optional_text(so, "id").value_or("");
        meta.type = optional_text(so, "type").value_or("");
        meta.access = optional_text(so, "access").value_or("");
        meta.unit = optional_text(so, "unit");
        meta.min = optional_text(so, "min");
        meta.max = optional_text(so, "max");
        meta.default_value = optional_text(so, "default");
        m.settings.push_back(std::move(meta));
      }
    out.push_back(std::move(m));
  }
  co_return out;
}

asio::awaitable<Result<std::vector<SettingValue>>> Client::settings(std::string module,
                                                                    std::vector<std::string> ids) {
  const std::string what = "KOSTAL settings " + module;
  std::string body = "[{\"moduleid\":" + net::to_json(json::value(module)) +
                     ",\"settingids\":" + ids_json(ids) + "}]";
  auto op = call_array("POST", "/settings", body, what);
  auto a = co_await std::move(op);
  if (!a) co_return fail(a.error());
  std::vector<SettingValue> out;
  for (const auto& v : *a) {
    auto o = object_at(v, what);
    if (!o) co_return fail(o.error());
    auto list = o->if_contains("settings");
    if (!list || !list->is_array()) co_return fail(ErrorKind::Protocol, what + ": no 'settings'");
    for (const auto& s : list->as_array()) {
      auto so = object_at(s, what);
      if (!so) co_return fail(so.error());
      auto id = net::get_string(*so, "id", what);
      if (!id) co_return fail(id.error());
      // Values are strings; a number is accepted all the same.
      out.push_back({*id, optional_text(*so, "value").value_or("")});
    }
  }
  co_return out;
}

asio::awaitable<Result<void>> Client::write_settings(std::string module,
                                                     std::vector<SettingValue> values) {
  json::array list;
  for (const auto& v : values) list.push_back(json::object{{"id", v.id}, {"value", v.value}});
  json::array body{json::object{{"moduleid", module}, {"settings", list}}};
  auto op = call("PUT", "/settings", net::to_json(body), "KOSTAL write settings " + module);
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  co_return Result<void>{};
}

asio::awaitable<Result<std::vector<EventInfo>>> Client::events(int max, std::string language) {
  auto op =
      call_array("POST", "/events/latest",
                 net::to_json(json::object{{"language", language}, {"max", max}}), "KOSTAL events");
  auto a = co_await std::move(op);
  if (!a) co_return fail(a.error());
  std::vector<EventInfo> out;
  for (const auto& v : *a) {
    auto o = object_at(v, "KOSTAL events");
    if (!o) co_return fail(o.error());
    EventInfo e;
    auto code = net::get_integer(*o, "code", "KOSTAL events", INT32_MIN, INT32_MAX, true);
    if (!code) co_return fail(code.error());
    e.code = static_cast<int>(*code);
    if (auto a2 = o->if_contains("is_active"); a2 && a2->is_bool()) e.is_active = a2->as_bool();
    e.start_time = optional_text(*o, "start_time").value_or("");
    e.end_time = optional_text(*o, "end_time").value_or("");
    e.category = optional_text(*o, "category").value_or("");
    e.group = optional_text(*o, "group").value_or("");
    e.description = optional_text(*o, "description").value_or("");
    e.long_description = optional_text(*o, "long_description").value_or("");
    out.push_back(std::move(e));
  }
  co_return out;
}

asio::awaitable<Result<std::string>> Client::log_data(std::string begin, std::string end) {
  json::object body;
  if (!begin.empty()) body["begin"] = begin;
  if (!end.empty()) body["end"] = end;
  auto op = call("POST", "/logdata/download", net::to_json(body), "KOSTAL logdata");
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  co_return r->body;
}

asio::awaitable<Result<FirmwareStatus>> Client::firmware_status() {
  auto op = call("GET", "/firmwareupdate/status", "", "KOSTAL firmware status");
  auto r = co_await std::move(op);
  if (!r) co_return fail(r.error());
  auto o = net::parse_json_object(r->body, "KOSTAL firmware status");
  if (!o) co_return fail(o.error());
  FirmwareStatus f;
  f.status = optional_text(*o, "status").value_or("");
  f.target = optional_text(*o, "target").value_or("");
  if (auto p = net::get_optional_number(*o, "current_percent", "firmware status"); p && *p) {
    auto percent = net::whole_number(**p, 0, 100, "KOSTAL firmware status", "current_percent");
    if (!percent) co_return fail(percent.error());
    f.current_percent = static_cast<int>(*percent);
  }
  co_return f;
}

}  // namespace sb::kostal
