#include "core/mqtt_settings.hpp"

#include <charconv>

namespace sb {

Result<MqttSettings> parse_mqtt_url(std::string_view url) {
  MqttSettings s;
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::InvalidArgument, "MQTT URL '" + std::string(url) + "': " + why);
  };
  std::string_view rest;
  if (url.starts_with("mqtt://")) {
    rest = url.substr(7);
  } else if (url.starts_with("mqtts://")) {
    rest = url.substr(8);
    s.tls = true;
    s.port = 8883;
  } else {
    return bad("must start with mqtt:// or mqtts://");
  }
  if (auto slash = rest.find('/'); slash != rest.npos) {
    if (slash + 1 != rest.size()) return bad("has a path; the topic prefix is a separate setting");
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != rest.npos) {
    auto user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = user.find(':');
    s.username = std::string(user.substr(0, colon));
    if (colon != user.npos) s.password = std::string(user.substr(colon + 1));
    if (s.username.empty()) return bad("names a password but no user");
  }
  std::string_view host = rest, port;
  if (rest.starts_with("[")) {  // [::1]:1883
    auto close = rest.find(']');
    if (close == rest.npos) return bad("has an unclosed '['");
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return bad("has something after ']' that is not ':port'");
      port = rest.substr(close + 2);
    }
  } else if (auto colon = rest.rfind(':'); colon != rest.npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return bad("has no host");
  s.host = std::string(host);
  if (!port.empty()) {
    unsigned p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535)
      return bad("port '" + std::string(port) + "' is not 1..65535");
    s.port = std::uint16_t(p);
  }
  return s;
}

std::string mqtt_prefix_problem(std::string_view prefix) {
  if (prefix.empty()) return "is empty";
  if (prefix.find_first_of("+#") != prefix.npos) return "may not contain the wildcards + or #";
  if (prefix.front() == '/' || prefix.back() == '/') return "may not start or end with '/'";
  if (prefix.find("//") != prefix.npos) return "may not contain an empty level ('//')";
  return "";
}

}  // namespace sb
