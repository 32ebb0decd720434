#include "engine/fleet.hpp"

#include <gtest/gtest.h>

#include "engine/drivers.hpp"
#include "engine/fleet_status.hpp"
#include "net/crypto.hpp"

using namespace sb;
using namespace sb::engine;

namespace {

const std::string kKey(32, '\x2a');

ConnectionConfig battery() {
  ConnectionConfig c;
  c.name = "bat-0042";
  c.vendor = "sonnen";
  c.site = "home-7";
  c.host = "10.0.4.2";
  c.port = 8080;
  c.poll_interval = std::chrono::seconds(15);
  c.options = {{"token", "s3cret-api-token"}, {"max_power_w", "4600"}};
  return c;
}

store::FleetConnection row_of(const ConnectionConfig& c, const std::string& sealed) {
  return {c.name, c.site, c.vendor, "", sealed, {}};
}

}  // namespace

TEST(FleetSecrets, SettingsSealAndOpenWithTheKeyAndShowNoSecret) {
  auto c = battery();
  auto sealed = seal_connection(c, kKey);
  ASSERT_TRUE(sealed) << sealed.error().message;
  EXPECT_EQ(sealed->find("s3cret"), std::string::npos);
  EXPECT_EQ(sealed->find("10.0.4.2"), std::string::npos);
  EXPECT_NE(*sealed, *seal_connection(c, kKey));  // a fresh nonce each time
  auto back = open_connection(row_of(c, *sealed), kKey);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->host, "10.0.4.2");
  EXPECT_EQ(back->port, 8080);
  EXPECT_EQ(back->poll_interval, std::chrono::seconds(15));
  EXPECT_EQ(back->options.at("token"), "s3cret-api-token");
  EXPECT_EQ(back->site, "home-7");
}

TEST(FleetSecrets, AnotherKeyAChangedRowOrAMovedRowIsRefusedByName) {
  auto c = battery();
  auto sealed = *seal_connection(c, kKey);
  auto other = open_connection(row_of(c, sealed), std::string(32, 'x'));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, ErrorKind::Auth);
  EXPECT_NE(other.error().message.find("connection 'bat-0042' in the database: its settings do "
                                       "not open with the fleet key"),
            std::string::npos)
      << other.error().message;
  auto bytes = *crypto::base64_decode(sealed.substr(3));
  bytes[20] ^= 1;
  EXPECT_FALSE(open_connection(row_of(c, "v1:" + crypto::base64_encode(bytes)), kKey));
  auto moved = row_of(c, sealed);
  moved.name = "bat-0043";
  auto m = open_connection(moved, kKey);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("sealed for 'bat-0042'"), std::string::npos);
  EXPECT_FALSE(open_connection(row_of(c, "plain text"), kKey));
  EXPECT_FALSE(open_connection(row_of(c, "v1:AAAA"), kKey));
}

TEST(FleetSecrets, TheKeyIsHexOrBase64OfThirtyTwoBytes) {
  std::string hex(64, 'a');
  auto k = parse_fleet_key(" " + hex + "\n", "key.txt");
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, std::string(32, '\xaa'));
  auto b = parse_fleet_key(crypto::base64_encode(kKey), "env");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, kKey);
  auto bad = parse_fleet_key("too short", "the environment variable K");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "the environment variable K: the fleet key must be 32 bytes, written as 64 hex "
            "digits or in base64 (make one with: openssl rand -hex 32)");
  FleetConfig f;
  f.key_env = "SB_TEST_NO_SUCH_VARIABLE";
  auto missing = load_fleet_key(f);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "fleet.key_env: the environment variable SB_TEST_NO_SUCH_VARIABLE is not set");
}

// A portal's export: a connection a row, the site's columns on its first row, any other column
// a vendor option, quoted fields with commas and quotes, CRLF, a byte-order mark.
TEST(FleetCsv, RowsBecomeSitesAndConnectionsCheckedLikeAConfiguration) {
  auto csv = std::string("\xEF\xBB\xBF") +
             "Site,Timezone,name,vendor,host,port,poll_interval,token,password,account\r\n"
             "north,Europe/Berlin,bat-1,sonnen,10.0.0.5,8080,15s,\"tok,with \"\"quotes\"\"\",,\r\n"
             "\r\n"
             "north,,bat-2,sonnen,10.0.0.6,,,tok-2,,\r\n"
             "south,Europe/Vienna,inv-1,kostal,10.0.1.7,,,,pw-1,plant-7\r\n";
  auto f = parse_fleet_csv(csv, "fleet.csv", builtin_drivers());
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_EQ(f->config.sites.size(), 2u);
  EXPECT_EQ(f->config.sites[0].id, "north");
  EXPECT_EQ(f->config.sites[0].timezone, "Europe/Berlin");
  EXPECT_EQ(f->config.sites[1].timezone, "Europe/Vienna");
  ASSERT_EQ(f->config.connections.size(), 3u);
  const auto& b1 = f->config.connections[0];
  EXPECT_EQ(b1.name, "bat-1");
  EXPECT_EQ(b1.site, "north");
  EXPECT_EQ(b1.port, 8080);
  EXPECT_EQ(b1.poll_interval, std::chrono::seconds(15));
  EXPECT_EQ(b1.options.at("token"), "tok,with \"quotes\"");
  EXPECT_EQ(f->config.connections[1].site, "north");
  EXPECT_EQ(f->config.connections[1].options.at("token"), "tok-2");
  EXPECT_EQ(f->config.connections[2].vendor, "kostal");
  EXPECT_EQ(f->config.connections[2].port, 80);  // the vendor's default
  EXPECT_EQ(f->config.connections[2].options.at("password"), "pw-1");
  EXPECT_FALSE(f->config.connections[0].options.contains("password"));  // empty: left out
  EXPECT_EQ(f->accounts, (std::map<std::string, std::string>{{"inv-1", "plant-7"}}));
}

// The example in docs/fleet.md imports as it says: a local battery and a cloud account whose
// budget is shared.
TEST(FleetCsv, TheGuidesExampleImports) {
  auto f = parse_fleet_csv(
      "site,timezone,name,vendor,host,port,token,api_key,account\n"
      "berlin-17,Europe/Berlin,bat-17,sonnen,10.17.0.5,80,tok-17,,\n"
      "hamburg-3,Europe/Berlin,fox-hh,foxess,,,,fox-0123456789abcdef,fox-account-1\n",
      "sites.csv", builtin_drivers());
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_EQ(f->config.connections.size(), 2u);
  EXPECT_EQ(f->config.connections[1].options.at("api_key"), "fox-0123456789abcdef");
  EXPECT_EQ(f->accounts, (std::map<std::string, std::string>{{"fox-hh", "fox-account-1"}}));
}

// Every mistake at once, each named by the file's line (blank lines counted) and the column.
TEST(FleetCsv, MistakesNameTheLineAndTheColumn) {
  auto error = [](std::string_view csv) {
    auto f = parse_fleet_csv(csv, "fleet.csv", builtin_drivers());
    return f ? std::string("accepted") : f.error().message;
  };
  auto e = error(
      "site,name,vendor,host,port\n"
      "a,bat-1,sonnen,10.0.0.5,99999\n"
      "\n"
      "a,bat 2,sonnen,10.0.0.6,\n"
      "a,inv-1,solaredge,10.0.0.7,\n");
  EXPECT_NE(e.find("fleet.csv:2: 'port' must be"), std::string::npos) << e;
  EXPECT_NE(e.find("fleet.csv:4: connection name 'bat 2' may use only letters"), std::string::npos)
      << e;
  EXPECT_NE(e.find("fleet.csv:5: "), std::string::npos) << e;
  EXPECT_NE(e.find("solaredge"), std::string::npos) << e;
  EXPECT_EQ(error("name,vendor\nx,sonnen\n").find("fleet.csv:1: no 'site' column"), 0u);
  EXPECT_EQ(error("site,name,vendor,name\n").find("fleet.csv:1: column 'name' appears twice"), 0u);
  EXPECT_EQ(error("site,name,vendor\na,b\n"),
            "fleet.csv:2: 2 field(s) where the first row names 3 column(s)");
  EXPECT_EQ(error("site,name,vendor\na,\"b,sonnen\n"),
            "fleet.csv:2: a quoted field is never closed");
  EXPECT_EQ(error("site,name,vendor\na,b\"c\",sonnen\n").find("fleet.csv:2: a quote inside"), 0u);
  EXPECT_EQ(
      error("site,timezone,name,vendor,host\na,UTC,x,sonnen,h1\na,Europe/Paris,y,sonnen,h2\n"),
      "fleet.csv:3: site 'a' has timezone 'UTC' on line 2, 'Europe/Paris' here");
  EXPECT_EQ(error(""),
            "fleet.csv: empty; the first row names the columns (site, name, vendor, "
            "host, …)");
  EXPECT_EQ(error("site,name,vendor\n"), "fleet.csv: no connections below the first row");
}

// What a holder writes of a connection reads back whole in another worker: health with its
// histogram, budget and failures by kind, devices with their values and qualities, and the
// capabilities the control forms are built from; a document that is not one is refused by name.
TEST(FleetStatus, ADocumentReadsBackAsWrittenAndAWrongOneIsNamed) {
  ConnectionStatus s;
  s.health.name = "bat-7";
  s.health.vendor = "sonnen";
  s.health.site = "north";
  s.health.state = "failing";
  s.health.last_success = TimePoint(Millis(1'764'000'000'123));
  s.health.last_error = "transport: connection refused \"quoted\"";
  s.health.polls = 41;
  s.health.failures = 3;
  s.health.latency_counts[2] = 40;
  s.health.latency_sum_s = 0.75;
  s.health.failures_by_kind = {{"transport", 3}};
  s.health.budget = CallBudget{12, 1440, TimePoint(Millis(1'764'086'400'000))};
  RemoteDevice d;
  d.live.device = {"bat-7:battery", "north", "bat-7",   "sonnen", "battery",
                   "sonnen",        "eco 8", "battery", "1.14"};
  d.live.online = true;
  d.live.last_success = s.health.last_success;
  d.live.values = {
      {"battery.soc", TimePoint(Millis(1'764'000'000'000)), 57.5, Quality::Measured},
      {"energy.pv_yield", TimePoint(Millis(1'764'000'000'000)), 1.25e6, Quality::Estimated}};
  d.capabilities.history = false;
  d.capabilities.setpoint_keepalive = Millis(60'000);
  d.capabilities.commands = {{CommandType::BatteryPower, -4600, 4600, {}, 0},
                             {CommandType::BatteryStrategy, 0, 0, {"auto", "manual"}, 0}};
  d.capabilities.metrics = {"battery.soc", "battery.power"};
  s.devices.push_back(d);

  auto doc = encode_status(s);
  EXPECT_NE(doc.find(R"("type":"battery-power")"), std::string::npos) << doc;
  EXPECT_NE(doc.find(R"("quality":"Estimated")"), std::string::npos) << doc;
  auto back = decode_status(doc, "bat-7");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->health.name, "bat-7");
  EXPECT_EQ(back->health.state, "failing");
  EXPECT_EQ(back->health.last_success, s.health.last_success);
  EXPECT_EQ(back->health.last_error, s.health.last_error);
  EXPECT_EQ(back->health.latency_counts, s.health.latency_counts);
  EXPECT_EQ(back->health.failures_by_kind, s.health.failures_by_kind);
  ASSERT_TRUE(back->health.budget);
  EXPECT_EQ(back->health.budget->limit, 1440);
  EXPECT_EQ(back->health.budget->resets_at, s.health.budget->resets_at);
  ASSERT_EQ(back->devices.size(), 1u);
  const auto& b = back->devices[0];
  EXPECT_EQ(b.live.device.id, "bat-7:battery");
  EXPECT_EQ(b.live.device.firmware, "1.14");
  EXPECT_TRUE(b.live.online);
  ASSERT_EQ(b.live.values.size(), 2u);
  EXPECT_EQ(b.live.values[1].value, 1.25e6);
  EXPECT_EQ(b.live.values[1].quality, Quality::Estimated);
  EXPECT_EQ(b.capabilities.setpoint_keepalive, Millis(60'000));
  ASSERT_EQ(b.capabilities.commands.size(), 2u);
  EXPECT_EQ(b.capabilities.commands[0].type, CommandType::BatteryPower);
  EXPECT_EQ(b.capabilities.commands[0].low, -4600);
  EXPECT_EQ(b.capabilities.commands[1].choices, (std::vector<std::string>{"auto", "manual"}));
  EXPECT_FALSE(back->health.consecutive_failures);

  auto not_json = decode_status("{\"health\":", "bat-7");
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().kind, ErrorKind::Protocol);
  EXPECT_NE(not_json.error().message.find("fleet status of bat-7: not JSON"), std::string::npos)
      << not_json.error().message;
  auto wrong = decode_status(R"({"health":5,"devices":[]})", "bat-8");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("fleet status of bat-8: not a status document"),
            std::string::npos)
      << wrong.error().message;
  auto command = doc;
  command.replace(command.find("battery-power"), 13, "warp-drive");
  // A newer worker's command: left out, the rest of the device shown.
  auto newer = decode_status(command, "bat-9");
  ASSERT_TRUE(newer) << newer.error().message;
  ASSERT_EQ(newer->devices[0].capabilities.commands.size(), 1u);
  EXPECT_EQ(newer->devices[0].capabilities.commands[0].type, CommandType::BatteryStrategy);
}
