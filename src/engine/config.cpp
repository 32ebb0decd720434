#include "engine/config.hpp"

#include <date/tz.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace sb::engine {

namespace {

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
    if (auto r = keys(root, {"gateway", "sites", "connections", "mqtt"}); !r)
      return fail(r.error());
    if (auto g = root["gateway"]) {
      if (auto r = gateway(g, cfg.gateway); !r) return fail(r.error());
    }
    if (auto m = root["mqtt"]) {
      auto r = mqtt(m);
      if (!r) return fail(r.error());
      cfg.mqtt = std::move(*r);
    }
    auto sites = root["sites"];
    if (!sites || !sites.IsSequence() || sites.size() == 0)
      return err(sites ? sites : root, "'sites' must be a list with at least one site");
    std::set<std::string> site_ids;
    for (const auto& n : sites) {
      auto s = site(n);
      if (!s) return fail(s.error());
      if (!site_ids.insert(s->id).second) return err(n, "site id '" + s->id + "' is used twice");
      cfg.sites.push_back(*s);
    }
    auto conns = root["connections"];
    if (!conns || !conns.IsSequence() || conns.size() == 0)
      return err(conns ? conns : root, "'connections' must be a list with at least one connection");
    std::set<std::string> names;
    for (const auto& n : conns) {
      auto c = connection(n, site_ids);
      if (!c) return fail(c.error());
      if (!names.insert(c->name).second)
        return err(n, "connection name '" + c->name + "' is used twice");
      cfg.connections.push_back(std::move(*c));
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

  Result<void> keys(const YAML::Node& map, std::initializer_list<std::string_view> valid) const {
    for (const auto& kv : map) {
      auto key = kv.first.as<std::string>();
      bool ok = false;
      for (auto v : valid) ok |= key == v;
      if (!ok) {
        std::string list;
        for (auto v : valid) list += (list.empty() ? "" : ", ") + std::string(v);
        return err(kv.first, "unknown key '" + key + "' (valid: " + list + ")");
      }
    }
    return {};
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

  Result<Millis> duration(const YAML::Node& n, std::string_view key, Millis lo) const {
    auto s = scalar(n, key);
    if (!s) return fail(s.error());
    auto d = parse_duration(*s);
    if (!d) return err(n, "'" + std::string(key) + "': " + d.error().message);
    if (*d < lo)
      return err(
          n, "'" + std::string(key) + "' must be at least " + std::to_string(lo.count()) + "ms");
    return *d;
  }

  Result<void> gateway(const YAML::Node& g, GatewayConfig& out) const {
    if (!g.IsMap()) return err(g, "'gateway' must be a mapping");
    if (auto r = keys(g, {"listen", "database", "api_token", "threads"}); !r) return r;
    if (auto n = g["listen"]) {
      auto s = scalar(n, "listen");
      if (!s) return fail(s.error());
      auto hp = parse_host_port(*s);
      if (!hp) return err(n, "'listen': " + hp.error().message);
      std::tie(out.listen_host, out.listen_port) = *hp;
    }
    if (auto n = g["database"]) {
      auto s = scalar(n, "database");
      if (!s) return fail(s.error());
      if (s->empty()) return err(n, "'database' must name a file");
      out.database = *s;
    }
    if (auto n = g["api_token"]) {
      auto s = scalar(n, "api_token");
      if (!s) return fail(s.error());
      if (!s->empty() && s->size() < 16)
        return err(n, "'api_token' must be at least 16 characters");
      out.api_token = *s;
    }
    if (auto n = g["threads"]) {
      auto v = number(n, "threads", 1, 64);
      if (!v) return fail(v.error());
      out.threads = static_cast<int>(*v);
    }
    return {};
  }

  Result<MqttSettings> mqtt(const YAML::Node& m) const {
    if (!m.IsMap()) return err(m, "'mqtt' must be a mapping");
    if (auto r = keys(m, {"url", "username", "password", "prefix", "discovery_prefix", "client_id",
                          "ca_file", "keepalive"});
        !r)
      return fail(r.error());
    auto url = m["url"];
    if (!url) return err(m, "'mqtt' needs a 'url' (mqtt://host:1883 or mqtts://host:8883)");
    auto u = scalar(url, "url");
    if (!u) return fail(u.error());
    auto s = parse_mqtt_url(*u);
    if (!s) return err(url, s.error().message);
    auto text = [&](const char* key, std::string& out) -> Result<void> {
      if (auto n = m[key]) {
        auto v = scalar(n, key);
        if (!v) return fail(v.error());
        out = *v;
      }
      return {};
    };
    for (auto [key, out] :
         {std::pair{"username", &s->username}, std::pair{"password", &s->password},
          std::pair{"prefix", &s->prefix}, std::pair{"discovery_prefix", &s->discovery_prefix},
          std::pair{"client_id", &s->client_id}, std::pair{"ca_file", &s->ca_file}})
      if (auto r = text(key, *out); !r) return fail(r.error());
    if (auto why = mqtt_prefix_problem(s->prefix); !why.empty())
      return err(m["prefix"] ? m["prefix"] : m, "'prefix' " + why);
    if (!s->discovery_prefix.empty())
      if (auto why = mqtt_prefix_problem(s->discovery_prefix); !why.empty())
        return err(m["discovery_prefix"], "'discovery_prefix' " + why);
    if (!s->ca_file.empty() && !s->tls)
      return err(m["ca_file"], "'ca_file' is for mqtts:// URLs only");
    if (auto n = m["keepalive"]) {
      auto d = duration(n, "keepalive", Millis(5000));
      if (!d) return fail(d.error());
      s->keepalive = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    return *s;
  }

  Result<Site> site(const YAML::Node& n) const {
    if (!n.IsMap()) return err(n, "each site must be a mapping");
    if (auto r = keys(n, {"id", "name", "latitude", "longitude", "timezone"}); !r)
      return fail(r.error());
    Site s;
    auto id = n["id"];
    if (!id) return err(n, "a site needs an 'id'");
    auto idv = scalar(id, "id");
    if (!idv) return fail(idv.error());
    if (idv->empty() || idv->find_first_not_of(
                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                            std::string::npos)
      return err(id, "site id '" + *idv + "' may use only letters, digits, '_' and '-'");
    s.id = *idv;
    s.name = s.id;
    if (auto v = n["name"]) {
      auto x = scalar(v, "name");
      if (!x) return fail(x.error());
      s.name = *x;
    }
    if (auto v = n["latitude"]) {
      auto x = number(v, "latitude", -90, 90);
      if (!x) return fail(x.error());
      s.latitude = *x;
    }
    if (auto v = n["longitude"]) {
      auto x = number(v, "longitude", -180, 180);
      if (!x) return fail(x.error());
      s.longitude = *x;
    }
    if (auto v = n["timezone"]) {
      auto x = scalar(v, "timezone");
      if (!x) return fail(x.error());
      try {
        (void)date::locate_zone(*x);
      } catch (const std::exception&) {
        return err(v, "unknown time zone '" + *x + "' (use an IANA name such as Europe/Berlin)");
      }
      s.timezone = *x;
    }
    return s;
  }

  Result<ConnectionConfig> connection(const YAML::Node& n,
                                      const std::set<std::string>& sites) const {
    if (!n.IsMap()) return err(n, "each connection must be a mapping");
    if (auto r = keys(n, {"name", "vendor", "site", "host", "port", "tls", "poll_interval",
                          "timeout", "options"});
        !r)
      return fail(r.error());
    ConnectionConfig c;
    c.where = where(n);
    auto name = n["name"];
    if (!name) return err(n, "a connection needs a 'name'");
    auto nv = scalar(name, "name");
    if (!nv) return fail(nv.error());
    if (nv->empty() ||
        nv->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            std::string::npos)
      return err(name, "connection name '" + *nv + "' may use only letters, digits, '_' and '-'");
    c.name = *nv;
    auto vendor = n["vendor"];
    if (!vendor) return err(n, "connection '" + c.name + "' needs a 'vendor'");
    auto vv = scalar(vendor, "vendor");
    if (!vv) return fail(vv.error());
    if (auto msg = registry_.check_vendor(*vv); !msg.empty()) return err(vendor, msg);
    c.vendor = *vv;
    const auto* entry = registry_.find(c.vendor);
    auto site = n["site"];
    if (!site) {
      if (sites.size() != 1) return err(n, "connection '" + c.name + "' needs a 'site'");
      c.site = *sites.begin();
    } else {
      auto sv = scalar(site, "site");
      if (!sv) return fail(sv.error());
      if (!sites.contains(*sv)) return err(site, "site '" + *sv + "' is not defined under 'sites'");
      c.site = *sv;
    }
    if (auto h = n["host"]) {
      auto hv = scalar(h, "host");
      if (!hv) return fail(hv.error());
      if (auto bad = host_problem(*hv)) return err(h, "'host': " + *bad);
      c.host = *hv;
    }
    c.port = entry->default_port;
    if (auto p = n["port"]) {
      auto pv = number(p, "port", 1, 65535);
      if (!pv) return fail(pv.error());
      c.port = static_cast<int>(*pv);
    }
    if (auto t = n["tls"]) {
      auto tv = scalar(t, "tls");
      if (!tv) return fail(tv.error());
      if (*tv != "true" && *tv != "false") return err(t, "'tls' must be true or false");
      c.tls = *tv == "true";
    }
    if (auto p = n["poll_interval"]) {
      auto d = duration(p, "poll_interval", Millis(1000));
      if (!d) return fail(d.error());
      c.poll_interval = *d;
    }
    if (auto t = n["timeout"]) {
      auto d = duration(t, "timeout", Millis(100));
      if (!d) return fail(d.error());
      c.timeout = *d;
    }
    if (auto o = n["options"]) {
      if (!o.IsMap()) return err(o, "'options' must be a mapping");
      for (const auto& kv : o) {
        auto key = kv.first.as<std::string>();
        bool known = false;
        for (const auto& k : entry->option_keys) known |= k == key;
        if (!known) {
          std::string list;
          for (const auto& k : entry->option_keys) list += (list.empty() ? "" : ", ") + k;
          return err(kv.first, "unknown option '" + key + "' for vendor " + c.vendor +
                                   " (valid: " + (list.empty() ? "none" : list) + ")");
        }
        auto v = scalar(kv.second, key);
        if (!v) return fail(v.error());
        c.options[key] = *v;
      }
    }
    // Let the driver check its own options now, so a bad value fails at load time.
    return c;
  }

  std::string name_;
  const DriverRegistry& registry_;
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
