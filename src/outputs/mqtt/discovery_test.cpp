// Home Assistant discovery payloads and the command topics, as HA and a user's automations read
// them. (tests/mqtt_test.cpp runs the whole output against a real Mosquitto broker.)
#include "outputs/mqtt/discovery.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using namespace sb;

namespace {

boost::json::object find(const std::vector<mqtt::Message>& ms, const std::string& topic) {
  for (const auto& m : ms)
    if (m.topic == topic) return boost::json::parse(m.payload).as_object();
  ADD_FAILURE() << "no " << topic;
  return {};
}

}  // namespace

TEST(MqttDiscovery, SensorsLandInTheEnergyDashboardAndControlsFollowTheCapabilities) {
  MqttSettings s;
  s.prefix = "home/solar";
  DeviceInfo d{"fox:60BH1", "home",      "fox",   "foxess", "inverter",
               "FoxESS",    "H3-10.0-E", "60BH1", "1.52"};
  Capabilities c;
  c.commands = {{CommandType::MinSoc, 10, 100, {}, 0},
                {CommandType::BatteryStrategy, 0, 0, {"SelfUse", "Feedin"}, 0},
                {CommandType::Release, 0, 0, {}, 0},
                {CommandType::TouSchedule, 0, 10'000, {"self-use"}, 8}};
  auto ms = mqtt::device_discovery(s, d, c,
                                   {"energy.grid_import", "battery.soc", "pv.string.2.power",
                                    "device.state", "device.online", "vendor.foxess.batVolt"});
  auto energy = find(ms, "homeassistant/sensor/sunbridge_fox_60BH1_energy_grid_import/config");
  EXPECT_EQ(energy["device_class"], "energy");
  EXPECT_EQ(energy["state_class"], "total_increasing");
  EXPECT_EQ(energy["unit_of_measurement"], "Wh");
  EXPECT_EQ(energy["state_topic"], "home/solar/fox_60BH1/energy.grid_import");
  EXPECT_EQ(energy["object_id"], "sunbridge_fox_60bh1_energy_grid_import");
  EXPECT_EQ(energy["name"], "Energy grid import");
  auto dev = energy["device"].as_object();
  EXPECT_EQ(dev["identifiers"].as_array()[0], "sunbridge_fox_60BH1");
  EXPECT_EQ(dev["manufacturer"], "FoxESS");
  EXPECT_EQ(dev["serial_number"], "60BH1");
  EXPECT_EQ(dev["sw_version"], "1.52");
  EXPECT_EQ(dev["via_device"], "sunbridge_site_home");
  auto avail = energy["availability"].as_array();
  ASSERT_EQ(avail.size(), 2u);
  EXPECT_EQ(avail[0].as_object().at("topic"), "home/solar/status");
  EXPECT_EQ(avail[1].as_object().at("topic"), "home/solar/fox_60BH1/availability");
  EXPECT_EQ(energy["availability_mode"], "all");
  EXPECT_EQ(energy["json_attributes_topic"], "home/solar/fox_60BH1/attributes");
  auto attrs =
      boost::json::parse(mqtt::attributes_payload(d, true, std::nullopt,
                                                  {{"battery.soc", Quality::Measured},
                                                   {"energy.grid_import", Quality::Backfilled}}))
          .as_object();
  EXPECT_EQ(attrs["vendor"], "foxess");
  EXPECT_EQ(attrs["firmware"], "1.52");
  EXPECT_TRUE(attrs["last_success"].is_null());
  EXPECT_EQ(attrs["not_measured"].as_object().size(), 1u);
  EXPECT_EQ(attrs["not_measured"].as_object()["energy.grid_import"], "backfilled");
  auto soc = find(ms, "homeassistant/sensor/sunbridge_fox_60BH1_battery_soc/config");
  EXPECT_EQ(soc["device_class"], "battery");
  EXPECT_EQ(soc["unit_of_measurement"], "%");
  EXPECT_EQ(soc["state_class"], "measurement");
  EXPECT_EQ(find(ms, "homeassistant/sensor/sunbridge_fox_60BH1_pv_string_2_power/config")["name"],
            "PV string 2 power");
  auto state = find(ms, "homeassistant/sensor/sunbridge_fox_60BH1_device_state/config");
  EXPECT_EQ(state["device_class"], "enum");
  EXPECT_EQ(state["options"].as_array().size(), 5u);
  EXPECT_EQ(mqtt::state_payload("device.state", 2), "running");
  EXPECT_EQ(mqtt::state_payload("pv.power", 4200), "4200");
  EXPECT_EQ(mqtt::state_payload("grid.frequency", 50.01), "50.01");
  // device.online and vendor values get no HA entity; their states are still published.
  for (const auto& m : ms) {
    EXPECT_EQ(m.topic.find("device_online"), std::string::npos) << m.topic;
    EXPECT_EQ(m.topic.find("vendor"), std::string::npos) << m.topic;
    EXPECT_TRUE(m.retain);
  }
  auto min_soc = find(ms, "homeassistant/number/sunbridge_fox_60BH1_min-soc/config");
  EXPECT_EQ(min_soc["command_topic"], "home/solar/fox_60BH1/min-soc/set");
  EXPECT_EQ(min_soc["state_topic"], "home/solar/fox_60BH1/min-soc/state");
  EXPECT_EQ(min_soc["min"].to_number<double>(), 10);
  auto select = find(ms, "homeassistant/select/sunbridge_fox_60BH1_battery-strategy/config");
  EXPECT_EQ(select["options"].as_array().size(), 2u);
  EXPECT_EQ(find(ms, "homeassistant/button/sunbridge_fox_60BH1_release/config")["payload_press"],
            "PRESS");
  EXPECT_EQ(find(ms, "homeassistant/text/sunbridge_fox_60BH1_tou-schedule/config")["max"]
                .to_number<int>(),
            255);
  // No battery setpoint, no smart control: no such entity.
  for (const auto& m : ms) {
    EXPECT_EQ(m.topic.find("battery-power"), std::string::npos);
    EXPECT_EQ(m.topic.find("smart-control"), std::string::npos);
  }
  s.discovery_prefix.clear();
  EXPECT_TRUE(mqtt::device_discovery(s, d, c, {"battery.soc"}).empty());
}

TEST(MqttDiscovery, CommandTopicsAndPayloadsAreParsedWithTheirMistakesNamed) {
  MqttSettings s;
  auto t = mqtt::parse_command_topic(s, "sunbridge/sonnen_battery/battery-power/set");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->device_key, "sonnen_battery");
  EXPECT_EQ(t->type, CommandType::BatteryPower);
  EXPECT_FALSE(mqtt::parse_command_topic(s, "sunbridge/sonnen_battery/boost/set"));
  EXPECT_FALSE(mqtt::parse_command_topic(s, "sunbridge/sonnen_battery/min-soc/state"));
  EXPECT_FALSE(mqtt::parse_command_topic(s, "other/sonnen_battery/min-soc/set"));
  DeviceInfo d{"sonnen:battery"};
  auto c = mqtt::command_of(d, CommandType::BatteryPower, "-1500\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->value, -1500);
  EXPECT_EQ(c->device, "sonnen:battery");
  EXPECT_EQ(c->requested_by, "mqtt");
  EXPECT_EQ(mqtt::command_of(d, CommandType::MinSoc, "abc").error().message,
            "min-soc wants a number, not 'abc'");
  EXPECT_EQ(mqtt::command_of(d, CommandType::SmartControl, "ON")->value, 1);
  EXPECT_EQ(mqtt::command_of(d, CommandType::BatteryStrategy, "SelfUse")->argument, "SelfUse");
  EXPECT_EQ(mqtt::command_of(d, CommandType::BatteryStrategy, "").error().message,
            "battery-strategy wants a value");
  EXPECT_TRUE(mqtt::command_of(d, CommandType::Release, "PRESS"));
  auto site = mqtt::site_discovery(s, {"home", "Home"});
  ASSERT_EQ(site.size(), 5u);  // four power sensors and the site's events
  auto grid = boost::json::parse(site[2].payload).as_object();
  EXPECT_EQ(site[4].topic, "homeassistant/event/sunbridge_site_home_events/config");
  EXPECT_EQ(boost::json::parse(site[4].payload).as_object()["state_topic"],
            "sunbridge/site/home/event");
  EXPECT_EQ(grid["state_topic"], "sunbridge/site/home/grid.power");
  EXPECT_EQ(grid["device"].as_object()["identifiers"].as_array()[0], "sunbridge_site_home");
}
