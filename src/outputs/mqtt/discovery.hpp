// What the MQTT output publishes, as pure functions (docs/mqtt.md): the topics, the state
// payloads and the Home Assistant discovery configs of sites, device metrics and controls.
//
//   <prefix>/status                         online / offline (retained; the broker's last will)
//   <prefix>/<device>/availability          online / offline (retained)
//   <prefix>/<device>/attributes            JSON attributes of its HA entities (retained)
//   <prefix>/<device>/<metric>              the value, e.g. sunbridge/sonnen_battery/battery.soc
//   <prefix>/<device>/<command>/set         commands in: 20, SelfUse, 1, PRESS, a schedule text
//   <prefix>/<device>/<command>/state       the last verified value (retained)
//   <prefix>/<device>/<command>/result      each command's outcome as JSON
//   <prefix>/site/<site>/<metric>           site sums of pv, load, grid and battery power
//   <prefix>/<device>/event                 each event as raised (not retained); site/<site>/
//                                           event and <prefix>/event for a site's and the gateway's
//   <discovery>/<component>/<unique_id>/config   Home Assistant discovery (retained)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "core/mqtt_settings.hpp"

namespace sb::mqtt {

struct Message {
  std::string topic;
  std::string payload;
  bool retain = true;
};

/// A device id as a topic level and HA id part: "sonnen:battery" -> "sonnen_battery".
std::string device_key(std::string_view device_id);
/// "pv.string.2.power" -> "PV string 2 power".
std::string display_name(std::string_view metric);

std::string status_topic(const MqttSettings& s);
std::string availability_topic(const MqttSettings& s, std::string_view device_id);
/// `<prefix>/<device>/attributes`: the device's JSON attributes, which every one of its HA
/// entities shows (vendor, site, connection, serial, firmware, last success, value quality).
std::string attributes_topic(const MqttSettings& s, std::string_view device_id);
/// The payload of that topic for a device and its live values.
std::string attributes_payload(const DeviceInfo& d, bool online,
                               const std::optional<TimePoint>& last_success,
                               const std::vector<std::pair<std::string, Quality>>& qualities);
std::string state_topic(const MqttSettings& s, std::string_view device_id, std::string_view metric);
std::string site_topic(const MqttSettings& s, std::string_view site_id, std::string_view metric);
/// `<prefix>/<device>/event`, `<prefix>/site/<site>/event` for a site's, `<prefix>/event` for
/// the gateway's own (device "sunbridge"): each event as it is raised, not retained.
std::string event_topic(const MqttSettings& s, std::string_view device);
/// {"event_type": one of event_codes() (or "vendor"), "code", "severity", "message", "time"}:
/// what a Home Assistant event entity and an automation read.
std::string event_payload(const Event& e);
/// Discovery of the gateway's HA device: an event entity for its own events (a disk nearly
/// full); none without a prefix.
std::vector<Message> gateway_discovery(const MqttSettings& s);
/// The state payload of a value: a number as written by people ("230.5", "4200"), a device
/// state as its name ("running").
std::string state_payload(std::string_view metric, double value);

/// Discovery of the site's HA device (its summed power sensors); none without a prefix.
std::vector<Message> site_discovery(const MqttSettings& s, const Site& site);
/// Discovery of one device: a sensor per canonical metric it reports, and its controls.
std::vector<Message> device_discovery(const MqttSettings& s, const DeviceInfo& device,
                                      const Capabilities& caps,
                                      const std::vector<std::string>& metrics);

/// The command of a `<prefix>/<device>/<command>/set` topic.
struct CommandTopic {
  std::string device_key;
  CommandType type;
};
std::optional<CommandTopic> parse_command_topic(const MqttSettings& s, std::string_view topic);
/// The command a payload asks for, or why it cannot be one ("min-soc wants a number, not 'x'").
Result<Command> command_of(const DeviceInfo& device, CommandType type, std::string_view payload);
std::string command_topic(const MqttSettings& s, std::string_view device_id, CommandType type,
                          std::string_view leaf);

}  // namespace sb::mqtt
