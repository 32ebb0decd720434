#include "engine/config.hpp"

#include <date/tz.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "net/driver_env.hpp"

namespace sb::engine {

namespace {

// Reads the whole file and notes every mistake it finds (each with file:line:column), so one
// run of check-config names them all; a value with a mistake is left at its default.
class Parser {
 public:
  Parser(std::string name, const DriverRegistry& registry)
      : name_(std::move(name)), registry_(registry) {}

  Result<Config> parse(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      return fail(ErrorKind::InvalidArgument, name_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                                                  std::to_string(e.mark.column + 1) +
                                                  ": invalid YAML: " + e.msg);
    }
    Config cfg;
    cfg.path = name_;
    if (!root || root.IsNull()) return err(root, "the configuration is empty");
    if (!root.IsMap())
      return err(root, "the top level must be a mapping with gateway, sites, connections");
    keys(root, {"gateway", "sites", "connections", "mqtt", "log", "storage", "fleet"});
    if (auto g = root["gateway"]) gateway(g, cfg.gateway);
    if (auto l = root["log"]) log_section(l, cfg.log);
    if (auto s = root["storage"]) storage(s, cfg.storage);
    if (auto f = root["fleet"]) fleet_section(f, cfg);
    if (auto m = root["mqtt"]) cfg.mqtt = mqtt(m);
    auto sites = root["sites"];
    std::set<std::string> site_ids;
    if (!sites && cfg.fleet) {
      // A fleet worker's sites and connections are in the database (sunbridge fleet import).
    } else if (!sites || !sites.IsSequence() || sites.size() == 0) {
      note(sites ? sites : root, "'sites' must be a list with at least one site");
    } else {
      for (const auto& n : sites) {
        auto s = site(n);
        if (!s) continue;
        if (!site_ids.insert(s->id).second) {
          note(n, "site id '" + s->id + "' is used twice");
          continue;
        }
        cfg.sites.push_back(*s);
      }
    }
    auto conns = root["connections"];
    if (!conns && cfg.fleet) {
      // Likewise: the fleet's connections are in the database.
    } else if (!conns || !conns.IsSequence() || conns.size() == 0) {
      note(conns ? conns : root, "'connections' must be a list with at least one connection");
    } else {
      std::set<std::string> names;
      for (const auto& n : conns) {
        bool read_whole = true;
        auto c =
            connection(n, site_ids, sites && sites.IsSequence() ? sites.size() : 0, read_whole);
        if (!c) continue;
        if (!names.insert(c->name).second) {
          note(n, "connection name '" + c->name + "' is used twice");
          continue;
        }
        // The driver checks its own options (their values, what goes together); not when a
        // value it reads was refused here (a host with a port, an unset ${ENV}), which it
        // would call missing.
        if (read_whole) check_driver(*c);
        cfg.connections.push_back(std::move(*c));
      }
    }
    if (!errors_.empty()) {
      // In the order of the file, as an editor shows them.
      std::stable_sort(errors_.begin(), errors_.end(),
                       [this](const auto& a, const auto& b) { return position(a) < position(b); });
      std::string all;
      for (const auto& e : errors_) all += (all.empty() ? "" : "\n") + e;
      return fail(ErrorKind::InvalidArgument, all);
    }
    return cfg;
  }

 private:
  std::string where(const YAML::Node& n) const {
    auto m = n.Mark();
    if (m.line < 0) return name_;
    return name_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }
  std::unexpected<Error> err(const YAML::Node& n, const std::string& message) const {
    return fail(ErrorKind::InvalidArgument, where(n) + ": " + message);
  }
  void note(const YAML::Node& n, const std::string& message) {
    errors_.push_back(where(n) + ": " + message);
  }
  void note(const Error& e) {
    // A driver's check may name several mistakes, one per line.
    std::size_t start = 0;
    while (start < e.message.size()) {
      auto end = std::min(e.message.find('\n', start), e.message.size());
      errors_.push_back(e.message.substr(start, end - start));
      start = end + 1;
    }
  }
  // (line, column) of "<file>:L:C: ..."; messages without one sort first.
  std::pair<long, long> position(const std::string& e) const {
    if (!e.starts_with(name_ + ":")) return {0, 0};
    char* end = nullptr;
    long line = std::strtol(e.c_str() + name_.size() + 1, &end, 10);
    long col = *end == ':' ? std::strtol(end + 1, nullptr, 10) : 0;
    return {line, col};
  }
  // The value of a Result, or nullopt with its error noted.
  template <class T>
  std::optional<T> take(Result<T> r) {
    if (r) return std::move(*r);
    note(r.error());
    return std::nullopt;
  }

  // A mapping's key as text; nullopt, noted, when it is a list or a mapping (YAML allows
  // `? [a, b]` as a key; a configuration has no use for one).
  std::optional<std::string> key_of(const YAML::Node& key) {
    if (key.IsScalar()) return key.Scalar();
    note(key, key.IsSequence() ? "a key must be a name, not a list"
              : key.IsMap()    ? "a key must be a name, not a mapping"
                               : "a key is missing before ':'");
    return std::nullopt;
  }

  // Notes each key that is not valid; true when all are.
  bool keys(const YAML::Node& map, std::initializer_list<std::string_view> valid) {
    bool ok = true;
    for (const auto& kv : map) {
      auto name = key_of(kv.first);
      if (!name) {
        ok = false;
        continue;
      }
      const std::string& key = *name;
      bool known = false;
      for (auto v : valid) known |= key == v;
      if (!known) {
        std::string list;
        for (auto v : valid) list += (list.empty() ? "" : ", ") + std::string(v);
        note(kv.first, "unknown key '" + key + "' (valid: " + list + ")");
        ok = false;
      }
    }
    return ok;
  }

  // A scalar with ${ENV} references expanded ("$$" is a literal "$").
  Result<std::string> scalar(const YAML::Node& n, std::string_view key) const {
    if (!n.IsScalar()) return err(n, "'" + std::string(key) + "' must be a single value");
    auto raw = n.Scalar();
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '$') {
        out += '$';
        ++i;
      } else if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '{') {
        auto end = raw.find('}', i);
        if (end == std::string::npos) return err(n, "'" + std::string(key) + "': unclosed ${");
        auto var = raw.substr(i + 2, end - i - 2);
        const char* v = std::getenv(var.c_str());
        if (!v)
          return err(n, "'" + std::string(key) + "': environment variable " + var + " is not set");
        out += v;
        i = end;
      } else {
        out += raw[i];
      }
    }
    return out;
  }

  Result<double> number(const YAML::Node& n, std::string_view key, double lo, double hi) const {
    auto s = scalar(n, key);
    if (!s) return fail(s.error());
    double v = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p != s->data() + s->size() || !std::isfinite(v))
      return err(n, "'" + std::string(key) + "' must be a number, not '" + *s + "'");
    if (v < lo || v > hi) {
      std::ostringstream os;
      os << "'" << key << "' must be within " << lo << ".." << hi << ", not " << *s;
      return err(n, os.str());
    }
    return v;
  }

  // A duration with its unit: a bare "10" could mean seconds or milliseconds, so it is refused.
  Result<Millis> duration(const YAML::Node& n, std::string_view key, Millis lo) const {
    auto s = scalar(n, key);
    if (!s) return fail(s.error());
    auto d = parse_duration(*s);
    if (!d) return err(n, "'" + std::string(key) + "': " + d.error().message);
    if (!s->empty() && std::isdigit(static_cast<unsigned char>(s->back())))
      return err(n, "'" + std::string(key) + "': '" + *s + "' needs a unit (" + *s + "s, " + *s +
                        "ms, " + *s + "m)");
    if (*d < lo)
      return err(
          n, "'" + std::string(key) + "' must be at least " + std::to_string(lo.count()) + "ms");
    return *d;
  }

  void gateway(const YAML::Node& g, GatewayConfig& out) {
    if (!g.IsMap()) return note(g, "'gateway' must be a mapping");
    keys(g, {"listen", "database", "api_token", "threads", "metrics"});
    if (auto n = g["listen"]) {
      if (auto s = take(scalar(n, "listen"))) {
        auto hp = parse_host_port(*s);
        if (!hp)
          note(n, "'listen': " + hp.error().message);
        else
          std::tie(out.listen_host, out.listen_port) = *hp;
      }
    }
    if (auto n = g["database"]) {
      if (auto s = take(scalar(n, "database"))) {
        if (s->empty())
          note(n, "'database' must name a SQLite file or a postgresql:// URL");
        else if (auto problem = store::is_postgres(*s) ? store::postgres_problem(*s) : std::nullopt)
          note(n, "'database': " + *problem);
        else
          out.database = *s;
      }
    }
    if (auto n = g["api_token"]) {
      if (auto s = take(scalar(n, "api_token"))) {
        if (!s->empty() && s->size() < 16)
          note(n, "'api_token' must be at least 16 characters");
        else
          out.api_token = *s;
      }
    }
    if (auto n = g["threads"])
      if (auto v = take(number(n, "threads", 1, 64))) out.threads = static_cast<int>(*v);
    if (auto n = g["metrics"]) {
      if (auto s = take(scalar(n, "metrics"))) {
        if (*s != "auto" && *s != "devices" && *s != "vendors")
          note(n, "'metrics' = '" + *s + "' must be auto, devices or vendors");
        else
          out.metrics = *s;
      }
    }
  }

  void storage(const YAML::Node& s, StorageConfig& out) {
    if (!s.IsMap()) return note(s, "'storage' must be a mapping");
    keys(s, {"retention"});
    auto r = s["retention"];
    if (!r) return;
    if (!r.IsMap()) return note(r, "'retention' must be a mapping of samples, hourly, events");
    keys(r, {"samples", "hourly", "events"});
    for (auto [key, field] :
         {std::pair{"samples", &out.retention.samples}, std::pair{"hourly", &out.retention.hourly},
          std::pair{"events", &out.retention.events}}) {
      auto n = r[key];
      if (!n) continue;
      auto text = take(scalar(n, key));
      if (!text) continue;
      if (*text == "forever") {
        field->reset();
        continue;
      }
      if (auto d = take(duration(n, key, Millis(86'400'000)))) *field = *d;
    }
  }

  void fleet_section(const YAML::Node& f, Config& cfg) {
    if (!f.IsMap()) return note(f, "'fleet' must be a mapping with key_file or key_env");
    keys(f, {"key_file", "key_env", "lease"});
    FleetConfig out;
    if (auto n = f["key_file"])
      if (auto s = take(scalar(n, "key_file"))) out.key_file = *s;
    if (auto n = f["key_env"])
      if (auto s = take(scalar(n, "key_env"))) out.key_env = *s;
    if (auto n = f["lease"])
      if (auto d = take(duration(n, "lease", Millis(3'000)))) out.lease = *d;
    if (out.key_file.empty() == out.key_env.empty())
      return note(f,
                  "'fleet' needs one of key_file (a file holding the 32-byte key) or key_env "
                  "(the environment variable holding it)");
    if (!store::is_postgres(cfg.gateway.database))
      return note(f,
                  "'fleet' keeps its connections in PostgreSQL: gateway.database must be a "
                  "postgresql:// URL");
    cfg.fleet = out;
  }

  void log_section(const YAML::Node& l, LogConfig& out) {
    if (!l.IsMap()) return note(l, "'log' must be a mapping");
    keys(l, {"level"});
    if (auto n = l["level"]) {
      if (auto s = take(scalar(n, "level"))) {
        auto level = parse_log_level(*s);
        if (!level)
          note(n, "'level': " + level.error().message);
        else
          out.level = *level;
      }
    }
  }

  std::optional<MqttSettings> mqtt(const YAML::Node& m) {
    if (!m.IsMap()) {
      note(m, "'mqtt' must be a mapping");
      return std::nullopt;
    }
    keys(m, {"url", "username", "password", "prefix", "discovery_prefix", "client_id", "ca_file",
             "keepalive"});
    auto url = m["url"];
    if (!url) {
      note(m, "'mqtt' needs a 'url' (mqtt://host:1883 or mqtts://host:8883)");
      return std::nullopt;
    }
    auto u = take(scalar(url, "url"));
    if (!u) return std::nullopt;
    auto s = parse_mqtt_url(*u);
    if (!s) {
      note(url, s.error().message);
      return std::nullopt;
    }
    for (auto [key, out] :
         {std::pair{"username", &s->username}, std::pair{"password", &s->password},
          std::pair{"prefix", &s->prefix}, std::pair{"discovery_prefix", &s->discovery_prefix},
          std::pair{"client_id", &s->client_id}, std::pair{"ca_file", &s->ca_file}})
      if (auto n = m[key])
        if (auto v = take(scalar(n, key))) *out = *v;
    if (auto why = mqtt_prefix_problem(s->prefix); !why.empty())
      note(m["prefix"] ? m["prefix"] : m, "'prefix' " + why);
    if (!s->discovery_prefix.empty())
      if (auto why = mqtt_prefix_problem(s->discovery_prefix); !why.empty())
        note(m["discovery_prefix"], "'discovery_prefix' " + why);
    if (!s->ca_file.empty() && !s->tls) note(m["ca_file"], "'ca_file' is for mqtts:// URLs only");
    if (auto n = m["keepalive"])
      if (auto d = take(duration(n, "keepalive", Millis(5000))))
        s->keepalive = std::chrono::duration_cast<std::chrono::seconds>(*d);
    return *s;
  }

  static bool is_name(const std::string& s) {
    return !s.empty() && s.find_first_not_of(
                             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                             std::string::npos;
  }

  // nullopt when the site cannot be used at all (no id); its other mistakes are noted.
  std::optional<Site> site(const YAML::Node& n) {
    if (!n.IsMap()) {
      note(n, "each site must be a mapping");
      return std::nullopt;
    }
    keys(n, {"id", "name", "latitude", "longitude", "timezone", "pv", "pv_low_share"});
    Site s;
    auto id = n["id"];
    if (!id) {
      note(n, "a site needs an 'id'");
      return std::nullopt;
    }
    auto idv = take(scalar(id, "id"));
    if (!idv) return std::nullopt;
    if (!is_name(*idv)) {
      note(id, "site id '" + *idv + "' may use only letters, digits, '_' and '-'");
      return std::nullopt;
    }
    s.id = *idv;
    s.name = s.id;
    if (auto v = n["name"])
      if (auto x = take(scalar(v, "name"))) s.name = *x;
    if (auto v = n["latitude"])
      if (auto x = take(number(v, "latitude", -90, 90))) s.latitude = *x;
    if (auto v = n["longitude"])
      if (auto x = take(number(v, "longitude", -180, 180))) s.longitude = *x;
    if (auto v = n["timezone"]) {
      if (auto x = take(scalar(v, "timezone"))) {
        try {
          (void)date::locate_zone(*x);
          s.timezone = *x;
        } catch (const std::exception&) {
          note(v, "unknown time zone '" + *x + "' (use an IANA name such as Europe/Berlin)");
        }
      }
    }
    if (auto v = n["pv"]) s.pv = pv_arrays(v);
    if (auto v = n["pv_low_share"])
      if (auto x = take(number(v, "pv_low_share", 0, 1))) s.pv_low_share = *x;
    return s;
  }

  // A site's PV arrays: a list of {peak_kw, azimuth, tilt}, what its clear-sky yield is
  // expected from.
  std::vector<PvArray> pv_arrays(const YAML::Node& n) {
    std::vector<PvArray> out;
    if (!n.IsSequence()) {
      note(n, "'pv' must be a list of arrays, each {peak_kw, azimuth, tilt}");
      return out;
    }
    for (const auto& a : n) {
      if (!a.IsMap()) {
        note(a, "each PV array must be a mapping {peak_kw, azimuth, tilt}");
        continue;
      }
      keys(a, {"peak_kw", "azimuth", "tilt"});
      PvArray p;
      auto peak = a["peak_kw"];
      if (!peak) {
        note(a, "a PV array needs 'peak_kw' (its STC peak power in kW)");
        continue;
      }
      auto kw = take(number(peak, "peak_kw", 0.001, 100'000));
      if (!kw) continue;
      p.peak_w = *kw * 1000;
      if (auto v = a["azimuth"])
        if (auto x = take(number(v, "azimuth", 0, 360))) p.azimuth_deg = *x;
      if (auto v = a["tilt"])
        if (auto x = take(number(v, "tilt", 0, 90))) p.tilt_deg = *x;
      out.push_back(p);
    }
    return out;
  }

  // nullopt when the connection cannot be used at all (no name, no vendor); its other
  // mistakes are noted.
  std::optional<ConnectionConfig> connection(const YAML::Node& n,
                                             const std::set<std::string>& sites,
                                             std::size_t sites_listed, bool& read_whole) {
    if (!n.IsMap()) {
      note(n, "each connection must be a mapping");
      return std::nullopt;
    }
    keys(n,
         {"name", "vendor", "site", "host", "port", "tls", "poll_interval", "timeout", "options"});
    ConnectionConfig c;
    c.where = where(n);
    auto name = n["name"];
    if (!name) {
      note(n, "a connection needs a 'name'");
      return std::nullopt;
    }
    auto nv = take(scalar(name, "name"));
    if (!nv) return std::nullopt;
    if (!is_name(*nv)) {
      note(name, "connection name '" + *nv + "' may use only letters, digits, '_' and '-'");
      return std::nullopt;
    }
    c.name = *nv;
    auto vendor = n["vendor"];
    if (!vendor) {
      note(n, "connection '" + c.name + "' needs a 'vendor'");
      return std::nullopt;
    }
    auto vv = take(scalar(vendor, "vendor"));
    if (!vv) return std::nullopt;
    if (auto msg = registry_.check_vendor(*vv); !msg.empty()) {
      note(vendor, msg);
      return std::nullopt;
    }
    c.vendor = *vv;
    const auto* entry = registry_.find(c.vendor);
    if (auto site = n["site"]) {
      if (auto sv = take(scalar(site, "site"))) {
        if (!sites.contains(*sv))
          note(site, "site '" + *sv + "' is not defined under 'sites'");
        else
          c.site = *sv;
      }
    } else if (sites_listed == 1 && sites.size() == 1) {
      c.site = *sites.begin();
    } else if (sites_listed > 1) {
      note(n, "connection '" + c.name + "' needs a 'site'");
    }
    auto before = errors_.size();
    if (auto h = n["host"]) {
      if (auto hv = take(scalar(h, "host"))) {
        if (auto bad = host_problem(*hv))
          note(h, "'host': " + *bad);
        else
          c.host = *hv;
      }
    }
    c.port = entry->default_port;
    if (auto p = n["port"])
      if (auto pv = take(number(p, "port", 1, 65535))) c.port = static_cast<int>(*pv);
    if (auto t = n["tls"]) {
      if (auto tv = take(scalar(t, "tls"))) {
        if (*tv != "true" && *tv != "false")
          note(t, "'tls' must be true or false");
        else
          c.tls = *tv == "true";
      }
    }
    if (errors_.size() != before) read_whole = false;
    if (auto p = n["poll_interval"])
      if (auto d = take(duration(p, "poll_interval", Millis(1000)))) c.poll_interval = *d;
    if (auto t = n["timeout"])
      if (auto d = take(duration(t, "timeout", Millis(100)))) c.timeout = *d;
    if (auto o = n["options"]) {
      if (!o.IsMap()) {
        note(o, "'options' must be a mapping");
      } else {
        for (const auto& kv : o) {
          auto name = key_of(kv.first);
          if (!name) continue;
          const std::string& key = *name;
          bool known = false;
          for (const auto& k : entry->option_keys) known |= k == key;
          if (!known) {
            std::string list;
            for (const auto& k : entry->option_keys) list += (list.empty() ? "" : ", ") + k;
            note(kv.first, "unknown option '" + key + "' for vendor " + c.vendor +
                               " (valid: " + (list.empty() ? "none" : list) + ")");
            continue;
          }
          if (auto v = take(scalar(kv.second, key))) {
            c.options[key] = *v;
            c.option_where[key] = where(kv.second);
          } else {
            read_whole = false;
          }
        }
      }
    }
    return c;
  }

  // Makes the connection's driver, as the gateway will, with nothing started: the driver
  // checks its own options (a number where a number belongs, what it requires, what goes
  // together) and every mistake is named at load time, not when polling begins.
  // The drivers are made in an environment that never runs, one for the whole file (an HTTP
  // client is not free to make: a fleet's file has hundreds of connections).
  struct CheckEnv {
    boost::asio::io_context io;
    RealClock clock;
    net::HttpClient http{io.get_executor()};
    net::AsioSleeper sleeper{io.get_executor()};
  };
  void check_driver(const ConnectionConfig& c) {
    if (!check_env_) check_env_ = std::make_unique<CheckEnv>();
    auto& e = *check_env_;
    DriverEnv env{e.io.get_executor(), e.clock, e.http, e.sleeper};
    if (auto d = registry_.create(c, env); !d) note(d.error());
  }

  std::unique_ptr<CheckEnv> check_env_;
  std::string name_;
  const DriverRegistry& registry_;
  std::vector<std::string> errors_;
};

}  // namespace

std::optional<std::string> host_problem(std::string_view host) {
  auto q = "'" + std::string(host) + "'";
  if (host.empty()) return "is empty";
  if (host.starts_with("http://") || host.starts_with("https://"))
    return q + " is a URL; give the bare host name or address, and 'port' / 'tls' apart";
  auto colons = std::count(host.begin(), host.end(), ':');
  if (colons == 1) {
    auto at = host.find(':');
    return q + " carries a port; write host: " + std::string(host.substr(0, at)) +
           " and port: " + std::string(host.substr(at + 1));
  }
  if (colons == 0 && host.find_first_of("/ \t[]@?#") != std::string_view::npos)
    return q + " is not a host name or IP address";
  if (colons > 1 && host.find_first_not_of("0123456789abcdefABCDEF:.%") != std::string_view::npos &&
      host.find('%') == std::string_view::npos)
    return q + " is not a host name or IP address";
  return std::nullopt;
}

Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text) {
  std::string host;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail(ErrorKind::InvalidArgument, "'" + std::string(text) + "' is not [IPv6]:PORT");
    host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return fail(ErrorKind::InvalidArgument, "'" + std::string(text) + "' is not HOST:PORT");
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (host.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535)
    return fail(ErrorKind::InvalidArgument,
                "'" + std::string(text) + "' is not HOST:PORT (port 0-65535)");
  return std::pair{host, static_cast<std::uint16_t>(p)};
}

Result<Config> parse_config(std::string_view text, const std::string& name,
                            const DriverRegistry& registry) {
  return Parser(name, registry).parse(text);
}

Result<Config> load_config(const std::string& path, const DriverRegistry& registry) {
  std::ifstream in(path);
  if (!in) return fail(ErrorKind::InvalidArgument, "cannot read config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path, registry);
}

}  // namespace sb::engine
