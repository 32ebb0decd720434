#include "outputs/mqtt/discovery.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>

#include "core/commands.hpp"
#include "core/metric.hpp"
#include "net/json.hpp"

namespace sb::mqtt {

namespace json = boost::json;

namespace {

std::string topic_level(std::string_view text) {
  std::string out;
  for (char c : text)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return out;
}

json::object origin() {
  return json::object{{"name", "sunbridge"}, {"sw_version", SUNBRIDGE_VERSION}};
}

json::array availability(const MqttSettings& s, std::string_view device_id) {
  json::array a;
  a.push_back(json::object{{"topic", status_topic(s)}});
  if (!device_id.empty()) a.push_back(json::object{{"topic", availability_topic(s, device_id)}});
  return a;
}

json::object ha_device(const DeviceInfo& d) {
  json::object o{
      {"identifiers", json::array{"sunbridge_" + device_key(d.id)}},
      {"name", d.model.empty() ? d.id : d.manufacturer + " " + d.model + " (" + d.id + ")"},
      {"via_device", "sunbridge_site_" + topic_level(d.site)}};
  if (!d.manufacturer.empty()) o["manufacturer"] = d.manufacturer;
  if (!d.model.empty()) o["model"] = d.model;
  if (!d.serial.empty()) o["serial_number"] = d.serial;
  if (!d.firmware.empty()) o["sw_version"] = d.firmware;
  return o;
}

Message config(const MqttSettings& s, std::string_view component, const std::string& unique_id,
               json::object body) {
  body["unique_id"] = unique_id;
  // HA makes the entity id of it: lower case, '_' only.
  std::string object_id;
  for (char c : unique_id)
    object_id += c == '-' ? '_' : char(std::tolower(static_cast<unsigned char>(c)));
  body["object_id"] = object_id;
  body["origin"] = origin();
  return {s.discovery_prefix + "/" + std::string(component) + "/" + unique_id + "/config",
          net::to_json(body), true};
}

// An HA event entity on `device`'s event topic, offering every event type sunbridge raises.
Message event_entity(const MqttSettings& s, const std::string& unique_id, std::string_view device,
                     json::array avail, json::object ha_dev) {
  json::array types;
  for (auto c : event_codes()) types.push_back(json::string(c));
  return config(s, "event", unique_id,
                json::object{{"name", "Events"},
                             {"state_topic", event_topic(s, device)},
                             {"event_types", std::move(types)},
                             {"availability", std::move(avail)},
                             {"device", std::move(ha_dev)},
                             {"icon", "mdi:bell-alert"}});
}

// Home Assistant's device class, unit and state class of a canonical metric; false for the
// ones HA gets no sensor for (device.online: availability says it).
bool sensor_fields(std::string_view metric, json::object& o) {
  auto def = find_metric(metric);
  if (!def || metric == metric::kDeviceOnline) return false;
  auto unit = std::string(unit_symbol(def->unit));
  switch (def->unit) {
    case Unit::Watt:
      o["device_class"] = "power";
      break;
    case Unit::WattHour:
      o["device_class"] = def->kind == MetricKind::Counter ? "energy" : "energy_storage";
      break;
    case Unit::Percent:
      if (metric == metric::kBatterySoc) o["device_class"] = "battery";
      break;
    case Unit::Volt:
      o["device_class"] = "voltage";
      break;
    case Unit::Ampere:
      o["device_class"] = "current";
      break;
    case Unit::Hertz:
      o["device_class"] = "frequency";
      break;
    case Unit::Celsius:
      o["device_class"] = "temperature";
      break;
    case Unit::State:
      o["device_class"] = "enum";
      o["options"] = json::array{"unknown", "standby", "running", "fault", "offline"};
      return true;
    default:
      break;
  }
  if (!unit.empty()) o["unit_of_measurement"] = unit;
  o["state_class"] = def->kind == MetricKind::Counter ? "total_increasing" : "measurement";
  return true;
}

}  // namespace

std::string device_key(std::string_view device_id) {
  return topic_level(device_id);
}

std::string display_name(std::string_view metric) {
  std::string out;
  std::size_t start = 0;
  while (start <= metric.size()) {
    auto end = metric.find_first_of("._", start);
    auto word = std::string(metric.substr(start, end == metric.npos ? metric.npos : end - start));
    if (word == "pv" || word == "ac" || word == "soc" || word == "soh")
      word = word == "soc" ? "SoC"
             : word == "soh"
                 ? "SoH"
                 : std::string{char(std::toupper(word[0])), char(std::toupper(word[1]))};
    if (!out.empty()) out += ' ';
    out += word;
    if (end == metric.npos) break;
    start = end + 1;
  }
  if (!out.empty()) out[0] = char(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string status_topic(const MqttSettings& s) {
  return s.prefix + "/status";
}

std::string availability_topic(const MqttSettings& s, std::string_view device_id) {
  return s.prefix + "/" + device_key(device_id) + "/availability";
}

std::string attributes_topic(const MqttSettings& s, std::string_view device_id) {
  return s.prefix + "/" + device_key(device_id) + "/attributes";
}

std::string attributes_payload(const DeviceInfo& d, bool online,
                               const std::optional<TimePoint>& last_success,
                               const std::vector<std::pair<std::string, Quality>>& qualities) {
  json::object o{{"device_id", d.id},  {"vendor", d.vendor},
                 {"site", d.site},     {"connection", d.connection},
                 {"serial", d.serial}, {"firmware", d.firmware},
                 {"online", online}};
  o["last_success"] = last_success ? json::value(format_iso8601(*last_success)) : nullptr;
  // Only what is not measured: HA users see at once which values were backfilled or are stale.
  json::object q;
  for (const auto& [metric, quality] : qualities)
    if (quality != Quality::Measured) q[metric] = to_string(quality);
  o["not_measured"] = std::move(q);
  return net::to_json(o);
}

std::string state_topic(const MqttSettings& s, std::string_view device_id,
                        std::string_view metric) {
  return s.prefix + "/" + device_key(device_id) + "/" + std::string(metric);
}

std::string site_topic(const MqttSettings& s, std::string_view site_id, std::string_view metric) {
  return s.prefix + "/site/" + topic_level(site_id) + "/" + std::string(metric);
}

std::string event_topic(const MqttSettings& s, std::string_view device) {
  if (device == "sunbridge") return s.prefix + "/event";
  if (device.starts_with("site:"))
    return s.prefix + "/site/" + topic_level(device.substr(5)) + "/event";
  return s.prefix + "/" + device_key(device) + "/event";
}

std::string event_payload(const Event& e) {
  return net::to_json(json::object{{"event_type", event_type(e.code)},
                                   {"code", e.code},
                                   {"severity", to_string(e.severity)},
                                   {"message", e.message},
                                   {"time", format_iso8601(e.time)}});
}

std::string state_payload(std::string_view metric, double value) {
  if (metric == metric::kDeviceState) {
    int code = int(std::lround(value));
    return code >= 0 && code <= 4 ? std::string(to_string(DeviceState(code))) : "unknown";
  }
  return net::number_text(value);
}

std::string command_topic(const MqttSettings& s, std::string_view device_id, CommandType type,
                          std::string_view leaf) {
  return s.prefix + "/" + device_key(device_id) + "/" + std::string(to_string(type)) + "/" +
         std::string(leaf);
}

std::vector<Message> site_discovery(const MqttSettings& s, const Site& site) {
  std::vector<Message> out;
  if (s.discovery_prefix.empty()) return out;
  auto key = topic_level(site.id);
  json::object dev{{"identifiers", json::array{"sunbridge_site_" + key}},
                   {"name", site.name.empty() ? site.id : site.name},
                   {"manufacturer", "sunbridge"},
                   {"model", "site"}};
  for (auto metric :
       {metric::kPvPower, metric::kLoadPower, metric::kGridPower, metric::kBatteryPower}) {
    json::object o{{"name", display_name(metric)},
                   {"state_topic", site_topic(s, site.id, metric)},
                   {"availability", availability(s, "")},
                   {"device", dev}};
    sensor_fields(metric, o);
    out.push_back(
        config(s, "sensor", "sunbridge_site_" + key + "_" + topic_level(metric), std::move(o)));
  }
  out.push_back(event_entity(s, "sunbridge_site_" + key + "_events", "site:" + site.id,
                             availability(s, ""), dev));
  return out;
}

std::vector<Message> device_discovery(const MqttSettings& s, const DeviceInfo& d,
                                      const Capabilities& c,
                                      const std::vector<std::string>& metrics) {
  std::vector<Message> out;
  if (s.discovery_prefix.empty()) return out;
  auto key = device_key(d.id);
  auto dev = ha_device(d);
  for (const auto& m : metrics) {
    json::object o{{"name", display_name(m)},
                   {"state_topic", state_topic(s, d.id, m)},
                   {"json_attributes_topic", attributes_topic(s, d.id)},
                   {"availability", availability(s, d.id)},
                   {"availability_mode", "all"},
                   {"device", dev}};
    if (!sensor_fields(m, o)) continue;
    out.push_back(config(s, "sensor", "sunbridge_" + key + "_" + topic_level(m), std::move(o)));
  }
  out.push_back(event_entity(s, "sunbridge_" + key + "_events", d.id, availability(s, d.id), dev));
  // Controls: their command topics run through the command executor (verified, audited).
  auto control = [&](std::string_view component, CommandType t, std::string name, json::object o) {
    o["name"] = std::move(name);
    o["command_topic"] = command_topic(s, d.id, t, "set");
    if (component != "button") o["state_topic"] = command_topic(s, d.id, t, "state");
    o["availability"] = availability(s, d.id);
    o["availability_mode"] = "all";
    o["device"] = dev;
    o["icon"] = "mdi:battery-sync";
    out.push_back(
        config(s, component, "sunbridge_" + key + "_" + topic_level(to_string(t)), std::move(o)));
  };
  // One entity per command the device takes, as the catalogue says (core/commands.hpp).
  for (const auto& spec : command_catalogue()) {
    const auto* l = c.command(spec.type);
    if (!l || spec.ha_component.empty()) continue;
    json::object o;
    if (spec.ha_component == "number") {
      o = {{"min", l->low},
           {"max", l->high},
           {"step", 1},
           {"mode", "box"},
           {"unit_of_measurement", spec.unit}};
    } else if (spec.ha_component == "select") {
      json::array options;
      for (const auto& v : l->choices) options.push_back(json::value(v));
      o = {{"options", std::move(options)}};
    } else if (spec.ha_component == "switch") {
      o = {{"payload_on", "1"}, {"payload_off", "0"}};
    } else if (spec.ha_component == "button") {
      o = {{"payload_press", "PRESS"}};
    } else if (spec.ha_component == "text") {
      o = {{"max", 255}};
    }
    control(spec.ha_component, spec.type, std::string(spec.title), std::move(o));
  }
  return out;
}

std::vector<Message> gateway_discovery(const MqttSettings& s) {
  if (s.discovery_prefix.empty()) return {};
  json::object dev{{"identifiers", json::array{"sunbridge_gateway_" + topic_level(s.prefix)}},
                   {"name", "sunbridge (" + s.prefix + ")"},
                   {"manufacturer", "sunbridge"},
                   {"model", "gateway"},
                   {"sw_version", SUNBRIDGE_VERSION}};
  return {event_entity(s, "sunbridge_gateway_" + topic_level(s.prefix) + "_events", "sunbridge",
                       availability(s, ""), dev)};
}

std::optional<CommandTopic> parse_command_topic(const MqttSettings& s, std::string_view topic) {
  auto head = s.prefix + "/";
  if (!topic.starts_with(head) || !topic.ends_with("/set")) return std::nullopt;
  auto rest = topic.substr(head.size(), topic.size() - head.size() - 4);
  auto slash = rest.find('/');
  if (slash == rest.npos || rest.find('/', slash + 1) != rest.npos) return std::nullopt;
  auto type = parse_command_type(rest.substr(slash + 1));
  if (!type) return std::nullopt;
  return CommandTopic{std::string(rest.substr(0, slash)), *type};
}

Result<Command> command_of(const DeviceInfo& d, CommandType type, std::string_view payload) {
  Command c;
  c.device = d.id;
  c.type = type;
  c.requested_by = "mqtt";
  auto name = std::string(to_string(type));
  while (!payload.empty() && std::isspace(static_cast<unsigned char>(payload.back())))
    payload.remove_suffix(1);
  if (type == CommandType::Release) return c;  // the button's PRESS, or anything
  if (command_takes_argument(type)) {
    if (payload.empty()) return fail(ErrorKind::InvalidArgument, name + " wants a value");
    c.argument = std::string(payload);
    return c;
  }
  if (command_spec(type).kind == ArgumentKind::OnOff && (payload == "ON" || payload == "OFF")) {
    c.value = payload == "ON" ? 1 : 0;
    return c;
  }
  auto [p, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), c.value);
  if (payload.empty() || ec != std::errc() || p != payload.data() + payload.size() ||
      !std::isfinite(c.value))
    return fail(ErrorKind::InvalidArgument,
                name + " wants a number, not '" + std::string(payload) + "'");
  return c;
}

}  // namespace sb::mqtt
