#include "engine/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/drivers.hpp"

using namespace sb;
using namespace sb::engine;

namespace {

Result<Config> parse(const std::string& text) {
  return parse_config(text, "site.yaml", builtin_drivers());
}

std::string error_of(const std::string& text) {
  auto r = parse(text);
  EXPECT_FALSE(r);
  return r ? "" : r.error().message;
}

const char* kGood = R"(gateway:
  listen: 127.0.0.1:9090
  database: /tmp/x.db
  api_token: ${SB_TEST_TOKEN}
sites:
  - id: home
    name: Home
    latitude: 52.52
    longitude: 13.40
    timezone: Europe/Berlin
connections:
  - name: battery
    vendor: sonnen
    host: 192.0.2.10
    poll_interval: 5s
    timeout: 1500ms
    options:
      max_power_w: 3300
)";

}  // namespace

TEST(Config, ParsesAValidFileWithEnvSecrets) {
  setenv("SB_TEST_TOKEN", "0123456789abcdef-secret", 1);
  auto c = parse(kGood);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->gateway.listen_port, 9090);
  EXPECT_EQ(c->gateway.api_token, "0123456789abcdef-secret");
  ASSERT_EQ(c->sites.size(), 1u);
  EXPECT_EQ(c->sites[0].timezone, "Europe/Berlin");
  ASSERT_EQ(c->connections.size(), 1u);
  const auto& k = c->connections[0];
  EXPECT_EQ(k.site, "home");  // the only site is the default
  EXPECT_EQ(k.port, 8080);    // the vendor's default port
  EXPECT_EQ(k.poll_interval.count(), 5000);
  EXPECT_EQ(k.timeout.count(), 1500);
  EXPECT_EQ(k.options.at("max_power_w"), "3300");
  EXPECT_EQ(k.where, "site.yaml:12:5");
}

TEST(Config, MissingEnvVariableNamesItAndTheLine) {
  unsetenv("SB_TEST_TOKEN");
  EXPECT_EQ(error_of(kGood),
            "site.yaml:4:14: 'api_token': environment variable SB_TEST_TOKEN is not set");
}

TEST(Config, UnknownVendorListsTheValidOnes) {
  std::string t = kGood;
  t.replace(t.find("vendor: sonnen"), 14, "vendor: sonen");
  setenv("SB_TEST_TOKEN", "0123456789abcdef-secret", 1);
  EXPECT_EQ(
      error_of(t),
      "site.yaml:13:13: unknown vendor 'sonen' (valid: enphase, foxess, kostal, solarlog, sonnen)");
}

TEST(Config, TyposInKeysAndOptionsAreNamed) {
  setenv("SB_TEST_TOKEN", "0123456789abcdef-secret", 1);
  std::string t = kGood;
  t.replace(t.find("poll_interval"), 13, "pol_interval");
  EXPECT_NE(
      error_of(t).find("site.yaml:15:5: unknown key 'pol_interval' (valid: name, vendor, site"),
      std::string::npos);
  t = kGood;
  t.replace(t.find("max_power_w"), 11, "max_power");
  EXPECT_EQ(error_of(t),
            "site.yaml:18:7: unknown option 'max_power' for vendor sonnen (valid: max_power_w, "
            "serial, verify_timeout, tolerance_w, api, token, setpoint_keepalive)");
}

TEST(Config, BadValuesAreNamedWithTheirPlace) {
  setenv("SB_TEST_TOKEN", "0123456789abcdef-secret", 1);
  std::string t = kGood;
  t.replace(t.find("52.52"), 5, "152.5");
  EXPECT_EQ(error_of(t), "site.yaml:8:15: 'latitude' must be within -90..90, not 152.5");
  t = kGood;
  t.replace(t.find("Europe/Berlin"), 13, "Europe/Berlinn");
  EXPECT_EQ(error_of(t),
            "site.yaml:10:15: unknown time zone 'Europe/Berlinn' (use an IANA name such as "
            "Europe/Berlin)");
  t = kGood;
  t.replace(t.find("5s"), 2, "soon");
  EXPECT_EQ(error_of(t),
            "site.yaml:15:20: 'poll_interval': 'soon' is not a duration (e.g. 10s, 500ms, 2m)");
  t = kGood;
  t.replace(t.find("127.0.0.1:9090"), 14, "localhost");
  EXPECT_EQ(error_of(t), "site.yaml:2:11: 'listen': 'localhost' is not HOST:PORT");
  t = kGood;
  t.replace(t.find("192.0.2.10"), 10, "192.0.2.10:8080");
  EXPECT_EQ(error_of(t),
            "site.yaml:14:11: 'host': '192.0.2.10:8080' carries a port; write host: 192.0.2.10 "
            "and port: 8080");
  t = kGood;
  t.replace(t.find("192.0.2.10"), 10, "http://192.0.2.10/api");
  EXPECT_EQ(error_of(t),
            "site.yaml:14:11: 'host': 'http://192.0.2.10/api' is a URL; give the bare host name "
            "or address, and 'port' / 'tls' apart");
  t = kGood;
  t.replace(t.find("192.0.2.10"), 10, "fd00::10");  // IPv6 literals are hosts
  EXPECT_TRUE(parse(t)) << parse(t).error().message;
}

TEST(Config, BrokenYamlAndStructureErrors) {
  EXPECT_EQ(error_of("sites: [\n"), "site.yaml:2:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(error_of(""), "site.yaml: the configuration is empty");
  EXPECT_EQ(error_of("sites: []\nconnections: []\n"),
            "site.yaml:1:8: 'sites' must be a list with at least one site\n"
            "site.yaml:2:14: 'connections' must be a list with at least one connection");
  EXPECT_EQ(error_of("sites:\n  - id: a\n  - id: a\nconnections:\n  - name: x\n    vendor: "
                     "sonnen\n    site: a\n"),
            "site.yaml:3:5: site id 'a' is used twice\n"
            "site.yaml:5:5: connection 'x' needs a host");
  EXPECT_EQ(
      error_of("sites:\n  - id: a\nconnections:\n  - name: x\n    vendor: sonnen\n    site: b\n"),
      "site.yaml:4:5: connection 'x' needs a host\n"
      "site.yaml:6:11: site 'b' is not defined under 'sites'");
}

TEST(Config, MissingFileIsAClearError) {
  auto r = load_config("/nonexistent/sunbridge.yaml", builtin_drivers());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot read config file '/nonexistent/sunbridge.yaml'");
}

TEST(Config, Durations) {
  EXPECT_EQ(parse_duration("10s")->count(), 10'000);
  EXPECT_EQ(parse_duration("250ms")->count(), 250);
  EXPECT_EQ(parse_duration("2m")->count(), 120'000);
  EXPECT_EQ(parse_duration("1h")->count(), 3'600'000);
  EXPECT_EQ(parse_duration("3")->count(), 3'000);
  EXPECT_FALSE(parse_duration("3 weeks"));
  // Found by fuzz_rest (a history step of 36 digits): the cast to milliseconds overflowed.
  auto huge = parse_duration("333333333333333333333333333333333333");
  ASSERT_FALSE(huge);
  EXPECT_EQ(
      huge.error().message,
      "'333333333333333333333333333333333333' is longer than 100 years, the longest duration");
  EXPECT_EQ(parse_duration("36500d")->count(), 36'500LL * 86'400'000);
}

TEST(Config, StorageRetentionIsReadWithForeverAndItsMistakesNamed) {
  auto base = std::string(
      "sites:\n  - id: home\nconnections:\n  - name: bat\n    vendor: sonnen\n"
      "    host: 127.0.0.1\n");
  auto defaults = engine::parse_config(base, "s.yaml", engine::builtin_drivers());
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->storage.retention.samples, std::chrono::days(365));
  EXPECT_FALSE(defaults->storage.retention.hourly);
  auto set = engine::parse_config(
      base + "storage:\n  retention:\n    samples: 90d\n    hourly: 3650d\n    events: forever\n",
      "s.yaml", engine::builtin_drivers());
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->storage.retention.samples, std::chrono::days(90));
  EXPECT_EQ(set->storage.retention.hourly, std::chrono::days(3650));
  EXPECT_FALSE(set->storage.retention.events);
  auto bad = engine::parse_config(base + "storage:\n  retention:\n    samples: 5h\n    raw: 1d\n",
                                  "s.yaml", engine::builtin_drivers());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "s.yaml:9:14: 'samples' must be at least 86400000ms\n"
            "s.yaml:10:5: unknown key 'raw' (valid: samples, hourly, events)");
}

TEST(Config, MqttSectionIsReadAndItsMistakesNamed) {
  auto base = std::string(
      "sites:\n  - id: home\nconnections:\n  - name: bat\n    vendor: sonnen\n"
      "    host: 127.0.0.1\n");
  auto ok = engine::parse_config(base +
                                     "mqtt:\n  url: mqtts://ha:pw@broker:8884\n  prefix: "
                                     "home/solar\n  ca_file: /etc/ssl/ca.pem\n  keepalive: 60s\n",
                                 "m.yaml", engine::builtin_drivers());
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_TRUE(ok->mqtt);
  EXPECT_EQ(ok->mqtt->host, "broker");
  EXPECT_EQ(ok->mqtt->port, 8884);
  EXPECT_EQ(ok->mqtt->username, "ha");
  EXPECT_EQ(ok->mqtt->prefix, "home/solar");
  EXPECT_EQ(ok->mqtt->discovery_prefix, "homeassistant");
  EXPECT_EQ(ok->mqtt->keepalive, std::chrono::seconds(60));
  EXPECT_FALSE(engine::parse_config(base, "m.yaml", engine::builtin_drivers())->mqtt);
  for (auto [text, why] :
       {std::pair{"mqtt:\n  prefix: x\n", "m.yaml:8:3: 'mqtt' needs a 'url'"},
        std::pair{"mqtt:\n  url: http://b\n", "m.yaml:8:8: MQTT URL 'http://b': must start with"},
        std::pair{"mqtt:\n  url: mqtt://b\n  prefix: a/#\n",
                  "m.yaml:9:11: 'prefix' may not contain the wildcards"},
        std::pair{"mqtt:\n  url: mqtt://b\n  ca_file: /x\n",
                  "m.yaml:9:12: 'ca_file' is for mqtts:// URLs only"},
        std::pair{"mqtt:\n  url: mqtt://b\n  qos: 2\n", "unknown key 'qos'"}}) {
    auto r = engine::parse_config(base + text, "m.yaml", engine::builtin_drivers());
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << why << " / " << r.error().message;
  }
}

// check-config stopped at the first mistake, and missed a vendor option of the wrong type and a
// duration without a unit: now every mistake is named at its place, in the file's order.
// Found by fuzz_config: a key that is not a name (YAML's `? [a, b]`) ended
// check-config with an uncaught exception.
TEST(Config, KeysThatAreNotNamesAreNamedNotACrash) {
  auto r = parse_config(
      "sites:\n  - id: home\n    ? [a, b]\n    : x\nconnections:\n  - name: bat\n"
      "    vendor: sonnen\n    host: 127.0.0.1\n    options:\n      ? {k: v}\n      : 1\n",
      "k.yaml", builtin_drivers());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "k.yaml:3:7: a key must be a name, not a list\n"
            "k.yaml:10:9: a key must be a name, not a mapping");
}

TEST(Config, EveryMistakeIsNamedInOneRunInTheFilesOrder) {
  auto text = std::string(
      "gateway:\n"
      "  threads: 0\n"
      "  metrics: all\n"
      "sites:\n"
      "  - id: home\n"
      "    latitude: 152\n"
      "connections:\n"
      "  - name: bat\n"
      "    vendor: sonnen\n"
      "    host: 127.0.0.1\n"
      "    poll_interval: 10\n"
      "    options:\n"
      "      verify_timeout: soon\n"
      "      tolerance_w: lots\n"
      "  - name: inv\n"
      "    vendor: kostal\n"
      "    host: 127.0.0.1:8080\n"
      "  - name: fox\n"
      "    vendor: foxess\n"
      "    options:\n"
      "      verify_timeout: 5\n"
      "      daily_calls: 3\n");
  EXPECT_EQ(error_of(text),
            "site.yaml:2:12: 'threads' must be within 1..64, not 0\n"
            "site.yaml:3:12: 'metrics' = 'all' must be auto, devices or vendors\n"
            "site.yaml:6:15: 'latitude' must be within -90..90, not 152\n"
            "site.yaml:11:20: 'poll_interval': '10' needs a unit (10s, 10ms, 10m)\n"
            "site.yaml:13:23: connection 'bat': option verify_timeout = 'soon' must be a number in "
            "0..600\n"
            "site.yaml:14:20: connection 'bat': option tolerance_w = 'lots' must be a number in "
            "0..10000\n"
            "site.yaml:17:11: 'host': '127.0.0.1:8080' carries a port; write host: 127.0.0.1 and "
            "port: 8080\n"
            "site.yaml:18:5: connection 'fox': option api_key is required (FoxESS Cloud: personal "
            "center -> API management; keep it in an environment variable: ${FOXESS_API_KEY}), or "
            "client_id, client_secret and token_file for OAuth\n"
            "site.yaml:22:20: connection 'fox': option daily_calls = '3' must be a number in "
            "10..1e+06");
}

TEST(Config, AFleetWorkerNamesItsKeyAndItsPostgresqlDatabaseAndNeedsNoSites) {
  auto worker = parse(
      "gateway:\n  database: postgresql://ops@db.example/fleet\nfleet:\n  key_env: FLEET_KEY\n");
  ASSERT_TRUE(worker) << worker.error().message;
  ASSERT_TRUE(worker->fleet);
  EXPECT_EQ(worker->fleet->key_env, "FLEET_KEY");
  EXPECT_EQ(worker->fleet->lease, Millis(30'000));
  EXPECT_TRUE(worker->sites.empty());
  auto quick =
      parse("gateway:\n  database: postgresql://db/f\nfleet:\n  key_env: K\n  lease: 5s\n");
  ASSERT_TRUE(quick) << quick.error().message;
  EXPECT_EQ(quick->fleet->lease, Millis(5'000));
  // Renewed every third: shorter than 3 s would renew faster than a loaded database answers.
  EXPECT_NE(error_of("gateway:\n  database: postgresql://db/f\nfleet:\n  key_env: K\n  lease: "
                     "1s\n")
                .find("site.yaml:5:10: 'lease' must be at least 3000ms"),
            std::string::npos);
  // Without a fleet, a file needs its sites and connections: both are named, with the reason.
  EXPECT_NE(error_of("gateway:\n  database: /var/lib/x.db\nfleet:\n  key_file: /k\n")
                .find("site.yaml:4:3: 'fleet' keeps its connections in PostgreSQL: "
                      "gateway.database must be a postgresql:// URL"),
            std::string::npos);
  EXPECT_NE(error_of("gateway:\n  database: postgresql://db/f\nfleet:\n  key_file: /k\n  "
                     "key_env: K\n")
                .find("site.yaml:4:3: 'fleet' needs one of key_file (a file holding the 32-byte "
                      "key) or key_env (the environment variable holding it)"),
            std::string::npos);
  EXPECT_NE(error_of("gateway:\n  database: postgresql://db/f?bogus=1\nfleet:\n  key_env: K\n")
                .find("'database': invalid URI query parameter: \"bogus\""),
            std::string::npos);
}

// A site's PV arrays set its clear-sky expectation; their mistakes are named where they are.
TEST(Config, ASitesPvArraysAndTheirMistakes) {
  setenv("SB_TEST_TOKEN", "0123456789abcdef-secret", 1);
  std::string t = kGood;
  const std::string at_zone = "    timezone: Europe/Berlin\n";
  t.replace(t.find(at_zone), at_zone.size(),
            at_zone +
                "    pv:\n"
                "      - {peak_kw: 9.8, azimuth: 180, tilt: 35}\n"
                "      - {peak_kw: 3}\n"
                "    pv_low_share: 0.25\n");
  auto c = parse(t);
  ASSERT_TRUE(c) << c.error().message;
  const auto& s = c->sites[0];
  ASSERT_EQ(s.pv.size(), 2u);
  EXPECT_EQ(s.pv[0], (PvArray{9800, 180, 35}));
  EXPECT_EQ(s.pv[1], (PvArray{3000, 180, 30}));  // facing south at 30° unless said
  EXPECT_DOUBLE_EQ(s.pv_low_share, 0.25);
  auto with = [&](const std::string& arrays) {
    std::string x = kGood;
    x.replace(x.find(at_zone), at_zone.size(), at_zone + arrays);
    return error_of(x);
  };
  EXPECT_EQ(with("    pv: 10\n"),
            "site.yaml:11:9: 'pv' must be a list of arrays, each {peak_kw, azimuth, tilt}");
  EXPECT_EQ(with("    pv:\n      - {azimuth: 90}\n"),
            "site.yaml:12:9: a PV array needs 'peak_kw' (its STC peak power in kW)");
  EXPECT_EQ(with("    pv:\n      - {peak_kw: 5, tilt: 95}\n"),
            "site.yaml:12:28: 'tilt' must be within 0..90, not 95");
  EXPECT_EQ(with("    pv:\n      - {peak_kw: 5, azimut: 95}\n"),
            "site.yaml:12:22: unknown key 'azimut' (valid: peak_kw, azimuth, tilt)");
  EXPECT_EQ(with("    pv_low_share: 2\n"),
            "site.yaml:11:19: 'pv_low_share' must be within 0..1, not 2");
}
