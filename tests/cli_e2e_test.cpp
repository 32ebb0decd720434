// The sunbridge binary end to end, as a user runs it: demo, simulate + read + control,
// check-config on a broken file, a wrong flag.
// Longer than ~700 lines on purpose: every test runs the real binary and its simulators the
// same way (e2e_support.hpp), and one file is one test binary to build and link.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "e2e_support.hpp"
#include "net/gzip.hpp"
#include "net/http_client.hpp"
#include "net/json.hpp"
#include "net/test_io.hpp"
#include "ports.hpp"
#include "process.hpp"
#include "store/store.hpp"

using namespace sb;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

const std::string kBin = SUNBRIDGE_BINARY;

using test::count_rows;
using test::Http;
using test::temp_dir;

/// The port a `simulate` process says it listens on ("" when it did not start).
std::string listening_port(test::Process& sim) {
  auto first = sim.line();
  if (!first) return "";
  std::smatch m;
  if (!std::regex_search(*first, m, std::regex(R"(^listening on http://127\.0\.0\.1:(\d+)$)")))
    return "";
  return m[1];
}

/// A configuration with one site and one connection to 127.0.0.1:port; `options` is YAML
/// indented for the connection's `options:` block (may be empty).
fs::path write_config(const fs::path& dir, const std::string& name, const std::string& vendor,
                      const std::string& port, const std::string& options = {}) {
  auto cfg = dir / "sunbridge.yaml";
  std::ofstream(cfg) << "gateway:\n  database: " << (dir / "s.db").string()
                     << "\nsites:\n  - id: home\n    timezone: Europe/Berlin\nconnections:\n"
                     << "  - name: " << name << "\n    vendor: " << vendor
                     << "\n    host: 127.0.0.1\n    port: " << port << "\n"
                     << (options.empty() ? "" : "    options:\n" + options);
  return cfg;
}

/// Waits (generously: a loaded machine) until a gateway on 127.0.0.1:port lists `device`.
bool gateway_knows(std::uint16_t port, const std::string& device,
                   milliseconds limit = seconds(30)) {
  auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (test::accepts(port)) {
      Http api(port);
      auto r = api.call("GET", "/api/v1/devices");
      if (r && r->body.find("\"" + device + "\"") != std::string::npos) return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

}  // namespace

TEST(CliE2E, DemoServesLiveChangingDataTakesACommandAndStopsCleanly) {
  auto dir = temp_dir("demo");
  auto db = dir / "demo.db";
  test::Process p({kBin, "demo", "--listen", "127.0.0.1:0", "--db", db.string()});
  std::uint16_t port = 0;
  std::string token;
  for (int i = 0; i < 10 && (port == 0 || token.empty()); ++i) {
    auto l = p.line();
    ASSERT_TRUE(l) << "demo printed no URL; stderr: " << p.rest_of_stderr();
    std::smatch m;
    if (std::regex_search(*l, m,
                          std::regex(R"(dashboard\s+http://127\.0\.0\.1:(\d+)/#token=(\w+))"))) {
      port = static_cast<std::uint16_t>(std::stoi(m[1]));
      token = m[2];
    }
  }
  ASSERT_NE(port, 0);
  Http http(port);

  // A home on SQLite never loads libpq (nor the libraries it brings): it is loaded only for a
  // postgresql:// database, which the fleet tests run.
  {
    std::ifstream maps("/proc/" + std::to_string(p.pid()) + "/maps");
    std::string line;
    int mapped = 0;
    while (std::getline(maps, line)) {
      EXPECT_EQ(line.find("libpq.so"), std::string::npos) << line;
      mapped += line.find("libsqlite3.so") != std::string::npos;  // the file read is the right one
    }
    EXPECT_GT(mapped, 0);
  }

  // Live values arrive and change.
  double first_time = -1;
  std::string first_stamp;
  for (int i = 0; i < 100; ++i) {
    auto r = http.call("GET", "/api/v1/devices/sonnen:battery/live");
    if (r && r->status == 200) {
      auto o = net::parse_json_object(r->body, "live");
      ASSERT_TRUE(o);
      auto& values = (*o)["values"].as_object();
      if (values.contains("battery.soc")) {
        auto stamp = std::string(values["battery.soc"].as_object()["time"].as_string());
        if (first_stamp.empty()) {
          first_stamp = stamp;
          first_time = i;
        } else if (stamp != first_stamp) {
          break;  // a newer poll replaced it: data is live
        }
      }
    }
    std::this_thread::sleep_for(milliseconds(100));
    ASSERT_LT(i, 99) << "no live, changing values";
  }
  (void)first_time;

  // The dashboard and its assets are served from the binary.
  auto page = http.call("GET", "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<title>sunbridge</title>"), std::string::npos);
  auto js = http.call("GET", "/static/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->header("Content-Type"), "text/javascript; charset=utf-8");

  // Commands need the token, and come back verified.
  auto body = R"({"command":"battery-power","value":-1800})";
  auto noauth = http.call("POST", "/api/v1/devices/sonnen:battery/commands", body,
                          {{"Content-Type", "application/json"}});
  ASSERT_TRUE(noauth);
  EXPECT_EQ(noauth->status, 401);
  auto cmd =
      http.call("POST", "/api/v1/devices/sonnen:battery/commands", body,
                {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
  ASSERT_TRUE(cmd);
  ASSERT_EQ(cmd->status, 200) << cmd->body;
  auto rec = net::parse_json_object(cmd->body, "command");
  ASSERT_TRUE(rec);
  EXPECT_EQ((*rec)["status"].as_string(), "verified");
  EXPECT_EQ((*rec)["after"].to_number<double>(), -1800);
  auto bad = http.call("POST", "/api/v1/devices/sonnen:battery/commands",
                       R"({"command":"battery-power","value":99999})",
                       {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("outside sonnen:battery's range"), std::string::npos);

  // Prometheus: what a scrape gets passes promtool, with every vendor's devices in it.
  auto metrics = http.call("GET", "/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* series :
       {"sunbridge_battery_soc_ratio{site=\"home\",device=\"sonnen:battery\",vendor=\"sonnen\"} ",
        "sunbridge_pv_power_watts{site=\"munich\",device=\"kostal:",
        "sunbridge_energy_grid_import_joules_total{site=\"fleet\",device=\"foxess:",
        "sunbridge_poll_duration_seconds_bucket{connection=\"foxess\",vendor=\"foxess\",le=",
        "sunbridge_call_budget_remaining{connection=\"foxess\",vendor=\"foxess\"} ",
        // What the shipped alerting rules read (docs/prometheus/sunbridge-alerts.yml).
        "sunbridge_device_up{", "sunbridge_connection_up{",
        "sunbridge_connection_needs_credentials{connection=\"kostal\",vendor=\"kostal\"} 0",
        "sunbridge_call_budget_limit{", "sunbridge_history_gaps_unfilled_total{",
        "sunbridge_store_samples_dropped_total ", "sunbridge_store_disk_free_bytes ",
        "sunbridge_store_disk_size_bytes "})
    EXPECT_NE(metrics->body.find(series), std::string::npos) << series;
  auto scrape = dir / "metrics.txt";
  std::ofstream(scrape) << metrics->body;
  test::Process promtool({"/bin/sh", "-c", "promtool check metrics < " + scrape.string()});
  EXPECT_EQ(promtool.wait(), 0) << promtool.rest_of_stdout() << promtool.rest_of_stderr();
  EXPECT_EQ(metrics->header("Content-Encoding"), "");
  EXPECT_EQ(metrics->header("Vary"), "Accept-Encoding");
  // As Prometheus scrapes: gzip asked for, gzip given, the same families inside.
  auto packed = http.call("GET", "/metrics", {}, {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(packed);
  ASSERT_EQ(packed->status, 200);
  EXPECT_EQ(packed->header("Content-Encoding"), "gzip");
  EXPECT_EQ(packed->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_LT(packed->body.size(), metrics->body.size() / 3);
  auto unpacked = net::gunzip(packed->body);
  ASSERT_TRUE(unpacked) << unpacked.error().message;
  for (const char* series : {"sunbridge_connection_up{connection=\"kostal\",vendor=\"kostal\"} ",
                             "sunbridge_battery_soc_ratio{site=\"home\",device=\"sonnen:battery\"",
                             "sunbridge_build_info{"})
    EXPECT_NE(unpacked->find(series), std::string::npos) << series;
  auto refused = http.call("GET", "/metrics", {}, {{"Accept-Encoding", "gzip;q=0, identity"}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->header("Content-Encoding"), "");
  EXPECT_NE(refused->body.find("sunbridge_build_info{"), std::string::npos);

  // History of what was polled.
  auto hist = http.call("GET", "/api/v1/devices/sonnen:battery/history?metric=battery.soc");
  ASSERT_TRUE(hist);
  EXPECT_EQ(hist->status, 200);
  EXPECT_NE(hist->body.find("\"points\":[["), std::string::npos) << hist->body;

  // Ctrl-C stops it cleanly, and what it stored is in the file.
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(), 0);
  EXPECT_NE(p.rest_of_stdout().find("stopped"), std::string::npos);
  EXPECT_GT(count_rows(db, "SELECT count(*) FROM samples"), 10);
  EXPECT_EQ(
      count_rows(db, "SELECT count(*) FROM commands WHERE status = 'verified' AND value = -1800"),
      1);
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM commands WHERE status = 'rejected'"), 1);
  // The demo's Enphase sign-in is its own: nothing of it stays beside the database.
  EXPECT_FALSE(fs::exists(db.string() + ".enphase-tokens.json"));
  fs::remove_all(dir);
}

// A demo that cannot start (its port is taken) says why and leaves nothing beside the database
// (it left <db>.enphase-tokens.json).
TEST(CliE2E, ADemoThatCannotStartLeavesNoFilesBehind) {
  auto dir = temp_dir("demo-fail");
  auto db = dir / "demo.db";
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto port = std::to_string(taken.local_endpoint().port());
  test::Process p({kBin, "demo", "--listen", "127.0.0.1:" + port, "--db", db.string()});
  EXPECT_EQ(p.wait(seconds(60)), 1);
  EXPECT_NE(p.rest_of_stderr().find("another program on that port?"), std::string::npos);
  EXPECT_FALSE(fs::exists(db.string() + ".enphase-tokens.json"));
  fs::remove_all(dir);
}

// A flag the chosen simulator does not use is refused, not ignored; the Solar-Log simulator
// takes the client it should know.
TEST(CliE2E, SimulatorFlagsAreUsedOrRefused) {
  test::Process pw({kBin, "simulate", "sonnen", "--password", "x", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(pw.wait(), 1);
  EXPECT_EQ(pw.rest_of_stderr(),
            "sunbridge: --password is for the kostal simulator; the sonnen simulator does not use "
            "it\n");
  test::Process plan({kBin, "simulate", "foxess", "--plan", "watt", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(plan.wait(), 1);
  EXPECT_NE(plan.rest_of_stderr().find("--plan is for the enphase simulator"), std::string::npos);
  test::Process half(
      {kBin, "simulate", "solarlog", "--client-id", "me", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(half.wait(), 1);
  EXPECT_NE(half.rest_of_stderr().find("--client-id and --client-secret go together"),
            std::string::npos);
  test::Process sl({kBin, "simulate", "solarlog", "--client-id", "me", "--client-secret",
                    "s3cret-me", "--package", "user-basic", "--listen", "127.0.0.1:0"});
  auto port = listening_port(sl);
  ASSERT_FALSE(port.empty()) << sl.rest_of_stderr();
  std::string clients;
  for (int i = 0; i < 6; ++i)
    if (auto l = sl.line()) clients += *l + "\n";
  EXPECT_NE(clients.find("client: me secret s3cret-me (user-basic, 4 plants)"), std::string::npos)
      << clients;
  // The client works; another one's credentials do not.
  Http api(std::uint16_t(std::stoi(port)));
  auto token = [&](const std::string& id, const std::string& secret) {
    auto r = api.call("POST", "/auth/realms/quotaapi/protocol/openid-connect/token",
                      "grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret,
                      {{"Content-Type", "application/x-www-form-urlencoded"}});
    return r ? r->status : 0;
  };
  EXPECT_EQ(token("me", "s3cret-me"), 200);
  EXPECT_EQ(token("user-basic", "user-basic-secret"), 401);
  sl.signal(SIGINT);
  EXPECT_EQ(sl.wait(), 0);
}

// Local devices on consecutive loopback addresses at one port (the load harness's tens of
// thousands of devices); each answers as a device of its own, the next address has nobody; the
// layouts that cannot be served are refused with the reason.
TEST(CliE2E, SimulatedDevicesSpreadAcrossLoopbackAddresses) {
  test::Process sim({kBin, "simulate", "sonnen", "--listen", "127.3.0.254:0", "--across",
                     "addresses", "--devices", "3"});
  std::vector<std::string> hosts, ports;
  for (int i = 0; i < 3; ++i) {
    auto l = sim.line();
    ASSERT_TRUE(l) << sim.rest_of_stderr();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*l, m, std::regex(R"(^listening on http://([0-9.]+):(\d+)$)")))
        << *l;
    hosts.push_back(m[1]);
    ports.push_back(m[2]);
  }
  EXPECT_EQ(hosts, (std::vector<std::string>{"127.3.0.254", "127.3.0.255", "127.3.1.0"}));
  EXPECT_EQ(ports[1], ports[0]);
  EXPECT_EQ(ports[2], ports[0]);
  const auto port = static_cast<std::uint16_t>(std::stoi(ports[0]));
  std::set<std::string> bodies;
  for (const auto& h : hosts) {
    Http device(h, port);
    auto r = device.call("GET", "/api/v1/status");
    ASSERT_TRUE(r) << h << ": " << r.error().describe();
    EXPECT_EQ(r->status, 200) << h;
    bodies.insert(r->body);
  }
  EXPECT_EQ(bodies.size(), 3u);  // three batteries, seeded apart
  Http nobody("127.3.1.1", port);
  auto r = nobody.call("GET", "/api/v1/status");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(), 0);

  auto refused = [](std::vector<std::string> args) {
    args.insert(args.begin(), {kBin, "simulate"});
    test::Process p(args);
    EXPECT_EQ(p.wait(), 1);
    return p.rest_of_stderr();
  };
  EXPECT_EQ(refused({"foxess", "--across", "addresses"}),
            "sunbridge: --across is for simulators whose devices each listen on their own (the "
            "foxess simulator serves every device from one endpoint)\n");
  EXPECT_EQ(refused({"sonnen", "--listen", "127.255.255.1:0", "--across", "addresses", "--devices",
                     "1000"}),
            "sunbridge: --devices 1000 from 127.255.255.1 would leave its /8; start from a lower "
            "address (e.g. 127.0.0.1)\n");
  EXPECT_EQ(refused({"kostal", "--listen", "localhost:0", "--across", "addresses"}),
            "sunbridge: --across addresses needs an IPv4 address in --listen (not 'localhost')\n");
  EXPECT_EQ(refused({"sonnen", "--listen", "127.0.0.1:65000", "--devices", "1000"}),
            "sunbridge: --devices 1000 from port 65000 would need ports past 65535; use a lower "
            "port or --across addresses\n");
  EXPECT_EQ(
      refused({"sonnen", "--devices", "100001"}),
      "sunbridge: --devices must be within 1..100000 for the sonnen simulator (not 100001)\n");
  EXPECT_EQ(refused({"enphase", "--devices", "1001"}),
            "sunbridge: --devices must be within 1..1000 for the enphase simulator (not 1001)\n");
  EXPECT_EQ(refused({"sonnen", "--across", "hosts"}),
            "sunbridge: --across must be 'ports' or 'addresses' (not 'hosts')\n");
}

TEST(CliE2E, SimulateThenReadAndControlThroughAConfigFile) {
  auto dir = temp_dir("sim");
  test::Process sim({kBin, "simulate", "sonnen", "--listen", "127.0.0.1:0", "--seed", "3"});
  auto port = listening_port(sim);
  ASSERT_FALSE(port.empty()) << sim.rest_of_stderr();
  auto cfg = write_config(dir, "sonnen1", "sonnen", port);

  test::Process read({kBin, "read", "sonnen1", "-c", cfg.string(), "--json"});
  ASSERT_EQ(read.wait(), 0) << read.rest_of_stderr();
  auto out = read.rest_of_stdout();
  EXPECT_NE(out.find("\"device\":\"sonnen1:battery\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"battery.soc\":"), std::string::npos) << out;
  // As people read it: watts whole, a state as a whole number, no "-0" anywhere.
  test::Process text({kBin, "read", "sonnen1", "-c", cfg.string()});
  ASSERT_EQ(text.wait(), 0) << text.rest_of_stderr();
  auto shown = text.rest_of_stdout();
  EXPECT_TRUE(std::regex_search(shown, std::regex(R"(\n  battery\.power +-?\d+ W\n)"))) << shown;
  EXPECT_TRUE(std::regex_search(shown, std::regex(R"(\n  battery\.soc +\d+\.\d %\n)"))) << shown;
  EXPECT_TRUE(std::regex_search(shown, std::regex(R"(\n  device\.state +\d+\n)"))) << shown;
  EXPECT_FALSE(std::regex_search(shown, std::regex(R"( -0(\.0+)?( |\n))"))) << shown;

  test::Process ctl(
      {kBin, "control", "sonnen1:battery", "battery-power", "1200", "-c", cfg.string()});
  ASSERT_EQ(ctl.wait(), 0) << ctl.rest_of_stderr();
  EXPECT_NE(ctl.rest_of_stdout().find("battery-power 1200 -> verified"), std::string::npos);
  EXPECT_EQ(count_rows(
                dir / "s.db",
                "SELECT count(*) FROM commands WHERE requested_by = 'cli' AND status = 'verified'"),
            1);

  test::Process unknown({kBin, "read", "nosuch", "-c", cfg.string()});
  EXPECT_EQ(unknown.wait(), 1);
  EXPECT_NE(unknown.rest_of_stderr().find("no connection 'nosuch' in"), std::string::npos);

  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(), 0);
  // With the simulator gone, a read fails with the reason, not a hang.
  test::Process gone({kBin, "read", "sonnen1", "-c", cfg.string()});
  EXPECT_EQ(gone.wait(), 1);
  EXPECT_NE(gone.rest_of_stderr().find("sonnen status: connect http://127.0.0.1:"),
            std::string::npos);
  fs::remove_all(dir);
}

// A command with a duration is held by the gateway that runs, so `control --duration` hands it
// to that gateway's API; without one running it says so.
TEST(CliE2E, ControlWithADurationGoesToTheRunningGatewayWhichHoldsIt) {
  auto dir = temp_dir("lease");
  test::Process sim({kBin, "simulate", "sonnen", "--listen", "127.0.0.1:0", "--token", "tok-42x"});
  auto port = listening_port(sim);
  ASSERT_FALSE(port.empty()) << sim.rest_of_stderr();
  auto gw_port = test::free_port();
  auto cfg = dir / "sunbridge.yaml";
  auto write = [&](bool token) {
    std::ofstream(cfg) << "gateway:\n  database: " << (dir / "s.db").string()
                       << "\n  listen: 127.0.0.1:" << gw_port << "\n"
                       << (token ? "  api_token: cli-token-0123456789\n" : "")
                       << "sites:\n  - id: home\n    timezone: Europe/Berlin\nconnections:\n"
                       << "  - name: bat\n    vendor: sonnen\n    host: 127.0.0.1\n    port: "
                       << port << "\n    poll_interval: 1s\n    options:\n      token: tok-42x\n";
  };
  write(true);
  std::vector<std::string> charge = {kBin,        "control",    "bat:battery", "battery-power",
                                     "-1500",     "--duration", "10m",         "-c",
                                     cfg.string()};
  test::Process nobody(charge);
  EXPECT_EQ(nobody.wait(), 1);
  EXPECT_NE(nobody.rest_of_stderr().find("--duration: no gateway runs on the database " +
                                         (dir / "s.db").string()),
            std::string::npos);
  test::Process run({kBin, "run", "-c", cfg.string()});
  ASSERT_TRUE(gateway_knows(gw_port, "bat:battery")) << run.rest_of_stderr();
  test::Process ctl(charge);
  ASSERT_EQ(ctl.wait(), 0) << ctl.rest_of_stderr();
  auto out = ctl.rest_of_stdout();
  EXPECT_NE(out.find("bat:battery: battery-power -1500 -> verified"), std::string::npos) << out;
  EXPECT_NE(out.find("then handed back (lease 1)), via the gateway at 127.0.0.1:"),
            std::string::npos)
      << out;
  EXPECT_EQ(count_rows(dir / "s.db", "SELECT count(*) FROM leases WHERE state = 'active'"), 1);
  // The gateway stops: the battery gets its own mode back.
  run.signal(SIGINT);
  EXPECT_EQ(run.wait(), 0);
  EXPECT_EQ(count_rows(dir / "s.db", "SELECT count(*) FROM leases WHERE state = 'released'"), 1);
  write(false);
  test::Process run2({kBin, "run", "-c", cfg.string()});
  ASSERT_TRUE(gateway_knows(gw_port, "bat:battery")) << run2.rest_of_stderr();
  test::Process no_token(charge);
  EXPECT_EQ(no_token.wait(), 1);
  EXPECT_NE(no_token.rest_of_stderr().find(
                "which takes commands through its API with gateway.api_token; " + cfg.string() +
                " does not set one"),
            std::string::npos)
      << no_token.rest_of_stderr();
  run2.signal(SIGINT);
  EXPECT_EQ(run2.wait(), 0);
  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(), 0);
  fs::remove_all(dir);
}

// One executor decides every command for a device. While `sunbridge run` serves the database,
// `control` goes through it, so its lease refuses another writer (naming the lease, its holder
// and its end) and `release` ends it; a second `run` on the database is refused, naming the
// first, while read-only commands work beside it. With the gateway killed, `control` takes the
// database itself and the lease it left still holds until released.
TEST(CliE2E, OneProcessOwnsTheDatabaseAndALeaseHoldsForEveryWriter) {
  auto dir = temp_dir("owner");
  test::Process sim({kBin, "simulate", "sonnen", "--listen", "127.0.0.1:0", "--token", "tok-7"});
  auto port = listening_port(sim);
  ASSERT_FALSE(port.empty()) << sim.rest_of_stderr();
  auto gw_port = test::free_port();
  auto cfg = dir / "sunbridge.yaml";
  auto db = dir / "s.db";
  std::ofstream(cfg) << "gateway:\n  database: " << db.string()
                     << "\n  listen: 127.0.0.1:" << gw_port
                     << "\n  api_token: cli-token-0123456789\n"
                     << "sites:\n  - id: home\n    timezone: Europe/Berlin\nconnections:\n"
                     << "  - name: bat\n    vendor: sonnen\n    host: 127.0.0.1\n    port: " << port
                     << "\n    poll_interval: 1s\n    options:\n      token: tok-7\n";
  auto control = [&](std::vector<std::string> args) {
    std::vector<std::string> all = {kBin, "control", "bat:battery"};
    all.insert(all.end(), args.begin(), args.end());
    all.insert(all.end(), {"-c", cfg.string()});
    return all;
  };
  test::Process run({kBin, "run", "-c", cfg.string()});
  ASSERT_TRUE(gateway_knows(gw_port, "bat:battery")) << run.rest_of_stderr();

  test::Process half(control({"min-soc", "45", "--duration", "500ms"}));
  EXPECT_EQ(half.wait(), 1);
  EXPECT_NE(
      half.rest_of_stderr().find("--duration '500ms' must be whole seconds from 1s to 7 days"),
      std::string::npos);
  test::Process hold(control({"min-soc", "45", "--duration", "2h"}));
  ASSERT_EQ(hold.wait(), 0) << hold.rest_of_stderr();
  EXPECT_NE(hold.rest_of_stdout().find("then handed back (lease 1)"), std::string::npos);
  test::Process other(control({"min-soc", "20"}));
  EXPECT_EQ(other.wait(), 1);
  auto refused = other.rest_of_stderr();
  EXPECT_NE(refused.find("bat:battery is held by min-soc 45 by api:127.0.0.1 until "),
            std::string::npos)
      << refused;
  EXPECT_NE(refused.find("(lease 1); send release to end it first"), std::string::npos) << refused;
  EXPECT_EQ(count_rows(db,
                       "SELECT count(*) FROM commands WHERE status = 'rejected' AND detail "
                       "LIKE '%held by min-soc 45%'"),
            1);

  test::Process second({kBin, "run", "-c", cfg.string()});
  EXPECT_EQ(second.wait(), 1);
  auto why = second.rest_of_stderr();
  EXPECT_NE(why.find("database '" + db.string() + "' is in use by sunbridge run (pid "),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("API http://127.0.0.1:" + std::to_string(gw_port)), std::string::npos) << why;
  test::Process reader({kBin, "history", "--gaps", "-c", cfg.string()});
  EXPECT_EQ(reader.wait(), 0) << reader.rest_of_stderr();

  test::Process release(control({"release"}));
  ASSERT_EQ(release.wait(), 0) << release.rest_of_stderr();
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM leases WHERE id = 1 AND state = 'released'"), 1);

  // The gateway dies holding a new lease: the lease is still the rule for the next writer.
  test::Process hold2(control({"min-soc", "50", "--duration", "2h"}));
  ASSERT_EQ(hold2.wait(), 0) << hold2.rest_of_stderr();
  run.signal(SIGKILL);
  run.wait();
  test::Process late(control({"min-soc", "20"}));
  EXPECT_EQ(late.wait(), 1);
  EXPECT_NE(late.rest_of_stderr().find("is held by min-soc 50 by api:127.0.0.1 until "),
            std::string::npos)
      << late.rest_of_stderr();
  test::Process release2(control({"release"}));
  ASSERT_EQ(release2.wait(), 0) << release2.rest_of_stderr();
  auto restored = release2.rest_of_stdout();
  EXPECT_TRUE(restored.starts_with("bat:battery: min-soc ")) << restored;
  EXPECT_NE(restored.find(" -> verified"), std::string::npos) << restored;
  EXPECT_EQ(count_rows(db,
                       "SELECT count(*) FROM leases WHERE id = 2 AND state = 'released' AND "
                       "detail LIKE 'ended early by cli%'"),
            1);
  test::Process now_free(control({"min-soc", "20"}));
  EXPECT_EQ(now_free.wait(), 0) << now_free.rest_of_stderr();
  EXPECT_NE(now_free.rest_of_stdout().find("min-soc 20 -> verified"), std::string::npos);
  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(), 0);
  fs::remove_all(dir);
}

// An operator's day: the service's log (stderr) says the inverter refused the password, once,
// with what to do; a configuration with a mistake is refused on reload and the gateway runs on;
// the fixed one is applied on reload (SIGHUP) and the log shows the inverter answering.
TEST(CliE2E, TheLogSaysThePasswordIsWrongAndAReloadWithTheRightOneRecovers) {
  auto dir = temp_dir("reload");
  test::Process sim({kBin, "simulate", "kostal", "--listen", "127.0.0.1:0", "--password", "pw-ok"});
  auto port = listening_port(sim);
  ASSERT_FALSE(port.empty()) << sim.rest_of_stderr();
  auto gw_port = test::free_port();
  auto cfg = dir / "sunbridge.yaml";
  auto write = [&](const std::string& password, const std::string& extra = {}) {
    std::ofstream(cfg) << "gateway:\n  database: " << (dir / "s.db").string()
                       << "\n  listen: 127.0.0.1:" << gw_port
                       << "\nsites:\n  - id: home\n    timezone: Europe/Berlin\nconnections:\n"
                       << "  - name: inv\n    vendor: kostal\n    host: 127.0.0.1\n    port: "
                       << port
                       << "\n    poll_interval: 1s\n    options:\n      password: " << password
                       << "\n"
                       << extra;
  };
  write("pw-wrong");
  test::Process run({kBin, "run", "-c", cfg.string()});
  std::string log;
  ASSERT_TRUE(run.stderr_until("credentials refused", log)) << log;
  EXPECT_NE(log.find("level=error component=gateway connection=inv msg=\"credentials refused: "
                     "auth: KOSTAL login as 'user': the device refused the password"),
            std::string::npos)
      << log;
  // A mistake in the new file: refused, named, and the gateway goes on.
  write("pw-ok", "      verify_timeout: soon\n");
  run.signal(SIGHUP);
  ASSERT_TRUE(run.stderr_until("option verify_timeout = 'soon' must be a number", log)) << log;
  EXPECT_NE(log.find("reload refused, the running configuration stays"), std::string::npos);
  EXPECT_TRUE(test::accepts(gw_port));
  write("pw-ok");
  run.signal(SIGHUP);
  ASSERT_TRUE(run.stderr_until("reloaded: restarted inv", log)) << log;
  ASSERT_TRUE(run.stderr_until("connection=inv msg=\"connected: 1 device(s): inv:", log)) << log;
  ASSERT_TRUE(gateway_knows(gw_port, "inv:90512ABC1000"));
  run.signal(SIGTERM);
  EXPECT_EQ(run.wait(), 0);
  ASSERT_TRUE(run.stderr_until("msg=stopped", log)) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n') < 40, true) << log;  // no line per poll
  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(), 0);
  fs::remove_all(dir);
}

// A consistent copy of the live database while the gateway writes to it, checked, and a
// restore that the gateway starts from.
TEST(CliE2E, ABackupOfTheLiveDatabaseIsWholeAndRestores) {
  auto dir = temp_dir("backup");
  test::Process sim({kBin, "simulate", "sonnen", "--listen", "127.0.0.1:0"});
  auto port = listening_port(sim);
  ASSERT_FALSE(port.empty()) << sim.rest_of_stderr();
  auto gw_port = test::free_port();
  auto cfg = dir / "sunbridge.yaml";
  auto db = dir / "s.db";
  std::ofstream(cfg) << "gateway:\n  database: " << db.string()
                     << "\n  listen: 127.0.0.1:" << gw_port
                     << "\nsites:\n  - id: home\nconnections:\n  - name: bat\n"
                     << "    vendor: sonnen\n    host: 127.0.0.1\n    port: " << port
                     << "\n    poll_interval: 1s\n";
  test::Process run({kBin, "run", "-c", cfg.string()});
  ASSERT_TRUE(gateway_knows(gw_port, "bat:battery")) << run.rest_of_stderr();
  auto deadline = steady_clock::now() + seconds(30);
  while (count_rows(db, "SELECT count(*) FROM samples") < 20 && steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  auto copy = dir / "copy.db";
  test::Process backup({kBin, "backup", "-c", cfg.string(), "--to", copy.string()});
  ASSERT_EQ(backup.wait(), 0) << backup.rest_of_stderr();
  std::smatch m;
  auto out = backup.rest_of_stdout();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(bytes, (\d+) samples, integrity ok)")))
      << out;
  auto copied = std::stoll(m[1]);
  EXPECT_GE(copied, 20);
  EXPECT_EQ(count_rows(copy, "SELECT count(*) FROM samples"), copied);
  EXPECT_FALSE(fs::exists(copy.string() + ".partial"));
  test::Process again({kBin, "backup", "-c", cfg.string(), "--to", copy.string()});
  EXPECT_EQ(again.wait(), 1);
  EXPECT_NE(again.rest_of_stderr().find("exists; choose another file or give --force"),
            std::string::npos);
  run.signal(SIGTERM);
  ASSERT_EQ(run.wait(), 0);
  // Restore: the copy takes the database's place; the gateway starts from it.
  fs::remove(db.string() + "-wal");
  fs::remove(db.string() + "-shm");
  fs::copy_file(copy, db, fs::copy_options::overwrite_existing);
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM samples"), copied);
  test::Process restored({kBin, "run", "-c", cfg.string()});
  ASSERT_TRUE(gateway_knows(gw_port, "bat:battery")) << restored.rest_of_stderr();
  restored.signal(SIGTERM);
  EXPECT_EQ(restored.wait(), 0);
  EXPECT_GE(count_rows(db, "SELECT count(*) FROM samples"), copied);
  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(), 0);
  fs::remove_all(dir);
}

TEST(CliE2E, KostalInverterThroughAConfigFileWithItsPasswordFromTheEnvironment) {
  auto dir = temp_dir("kostal");
  test::Process sim(
      {kBin, "simulate", "kostal", "--listen", "127.0.0.1:0", "--password", "s3cret-pw"});
  auto port = listening_port(sim);
  ASSERT_FALSE(port.empty()) << sim.rest_of_stderr();
  auto cfg = write_config(dir, "roof", "kostal", port, "      password: ${SB_E2E_KOSTAL_PW}\n");

  setenv("SB_E2E_KOSTAL_PW", "s3cret-pw", 1);
  test::Process read({kBin, "read", "roof", "-c", cfg.string(), "--json"});
  ASSERT_EQ(read.wait(), 0) << read.rest_of_stderr();
  auto out = read.rest_of_stdout();
  EXPECT_NE(out.find("\"device\":\"roof:90512ABC1000\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"energy.pv_yield\":"), std::string::npos) << out;
  EXPECT_NE(out.find("\"battery.soc\":"), std::string::npos) << out;

  test::Process ctl({kBin, "control", "roof:90512ABC1000", "min-soc", "25", "-c", cfg.string()});
  ASSERT_EQ(ctl.wait(), 0) << ctl.rest_of_stderr();
  EXPECT_NE(ctl.rest_of_stdout().find("min-soc 25 -> verified"), std::string::npos)
      << ctl.rest_of_stdout();

  // A wrong password is named as such, once: no retries that would lock the owner out.
  setenv("SB_E2E_KOSTAL_PW", "wrong-pw", 1);
  test::Process wrong({kBin, "read", "roof", "-c", cfg.string()});
  EXPECT_EQ(wrong.wait(), 1);
  EXPECT_NE(wrong.rest_of_stderr().find(
                "KOSTAL login as 'user': the device refused the password; needs credentials"),
            std::string::npos)
      << wrong.rest_of_stderr();
  unsetenv("SB_E2E_KOSTAL_PW");

  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(), 0);
  fs::remove_all(dir);
}

TEST(CliE2E, MalformedConfigIsReportedWithFileAndLine) {
  auto dir = temp_dir("cfg");
  auto cfg = dir / "bad.yaml";
  std::ofstream(cfg) << "sites:\n  - id: home\nconnections:\n  - name: b\n    vendor: sonen\n";
  test::Process p({kBin, "check-config", "-c", cfg.string()});
  EXPECT_EQ(p.wait(), 1);
  EXPECT_EQ(
      p.rest_of_stderr(),
      "sunbridge: " + cfg.string() +
          ":5:13: unknown vendor 'sonen' (valid: enphase, foxess, kostal, solarlog, sonnen)\n");
  std::ofstream(cfg) << "sites:\n  - id: home\nconnections:\n  - name: b\n    vendor: sonnen\n    "
                        "host: 127.0.0.1\n";
  test::Process good({kBin, "check-config", "-c", cfg.string()});
  EXPECT_EQ(good.wait(), 0);
  EXPECT_NE(good.rest_of_stdout().find(": ok (1 site(s), 1 connection(s)"), std::string::npos);
  fs::remove_all(dir);
}

TEST(CliE2E, HistoryGapsListsEachHoleWithWhatBackfillCouldNotFill) {
  auto dir = temp_dir("gaps");
  auto cfg = write_config(dir, "bat", "sonnen", "1");
  {
    auto st = store::open_sqlite((dir / "s.db").string());
    ASSERT_TRUE(st);
    TimePoint from, to, now;
    ASSERT_TRUE(parse_iso8601("2026-11-30T08:00:00Z", from));
    ASSERT_TRUE(parse_iso8601("2026-11-30T10:30:00Z", to));
    now = to;
    Gap hole{.device = "bat:battery",
             .from = from,
             .to = to,
             .reason = "no answer: transport: connection refused",
             .status = "unfillable",
             .detail = "sonnen offers no history to backfill from; missing: battery.soc",
             .done_until = to,
             .detected_at = now,
             .updated_at = now};
    auto id = (*st)->add_gap(hole);
    ASSERT_TRUE(id);
    Gap soc = hole;
    soc.metric = "battery.soc";
    soc.parent = *id;
    ASSERT_TRUE((*st)->add_gap(soc));
    (*st)->close();
  }
  test::Process p({kBin, "history", "--gaps", "--from", "2026-11-01", "-c", cfg.string()});
  EXPECT_EQ(p.wait(), 0);
  auto out = p.rest_of_stdout();
  EXPECT_EQ(out,
            "bat:battery  2026-11-30T08:00:00Z .. 2026-11-30T10:30:00Z    2h30  "
            "unfillable no answer: transport: connection refused\n"
            "    sonnen offers no history to backfill from; missing: battery.soc\n"
            "    battery.soc                  2026-11-30T08:00:00Z .. "
            "2026-11-30T10:30:00Z    2h30  unfillable\n");
  EXPECT_EQ(p.rest_of_stderr(), "1 gap(s), 1 metric record(s)\n");
  test::Process csv(
      {kBin, "history", "--gaps", "--csv", "--from", "2026-11-01", "-c", cfg.string()});
  EXPECT_EQ(csv.wait(), 0);
  EXPECT_NE(csv.rest_of_stdout().find("bat:battery,battery.soc,2026-11-30T08:00:00Z,"
                                      "2026-11-30T10:30:00Z,9000,unfillable,0,"),
            std::string::npos);
  test::Process bad({kBin, "history", "--gaps", "--status", "closed", "-c", cfg.string()});
  EXPECT_EQ(bad.wait(), 1);
  EXPECT_NE(bad.rest_of_stderr().find("--status 'closed' is not one of open, filled"),
            std::string::npos);
  test::Process no_metric({kBin, "history", "bat:battery", "-c", cfg.string()});
  EXPECT_EQ(no_metric.wait(), 1);
  EXPECT_NE(no_metric.rest_of_stderr().find("history needs --metric"), std::string::npos);
  fs::remove_all(dir);
}

// Metrics missing over the same stretch share one line under their hole (33 lines for one
// inverter's restart were unreadable).
TEST(CliE2E, HistoryGapsGroupsTheMetricsOfOneHole) {
  auto dir = temp_dir("gaps-grouped");
  auto cfg = write_config(dir, "bat", "sonnen", "1");
  {
    auto st = store::open_sqlite((dir / "s.db").string());
    ASSERT_TRUE(st);
    TimePoint from, to;
    ASSERT_TRUE(parse_iso8601("2026-11-30T08:00:00Z", from));
    ASSERT_TRUE(parse_iso8601("2026-11-30T08:10:00Z", to));
    Gap hole{.device = "bat:battery",
             .from = from,
             .to = to,
             .reason = "sunbridge was not running",
             .status = "unfillable",
             .done_until = to,
             .detected_at = to,
             .updated_at = to};
    auto id = (*st)->add_gap(hole);
    ASSERT_TRUE(id);
    for (auto m : {"battery.soc", "battery.power", "pv.power"}) {
      Gap g = hole;
      g.metric = m;
      g.parent = *id;
      ASSERT_TRUE((*st)->add_gap(g));
    }
    (*st)->close();
  }
  test::Process p({kBin, "history", "--gaps", "--from", "2026-11-01", "-c", cfg.string()});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(
      p.rest_of_stdout(),
      "bat:battery  2026-11-30T08:00:00Z .. 2026-11-30T08:10:00Z    0h10  unfillable "
      "sunbridge was not running\n"
      "    3 metrics                    2026-11-30T08:00:00Z .. 2026-11-30T08:10:00Z    0h10  "
      "unfillable: battery.power, battery.soc, pv.power\n");
  fs::remove_all(dir);
}

// A lifetime counter in CSV has every digit the store holds (it printed 1.35182e+07, 50 Wh off).
TEST(CliE2E, HistoryCsvKeepsEveryDigit) {
  auto dir = temp_dir("csv");
  auto cfg = write_config(dir, "inv", "kostal", "1", "      password: pw\n");
  TimePoint t;
  ASSERT_TRUE(parse_iso8601("2026-11-30T08:00:00Z", t));
  {
    auto st = store::open_sqlite((dir / "s.db").string());
    ASSERT_TRUE(st);
    ASSERT_TRUE((*st)->write_samples({{"inv:1", "energy.pv_yield", t, 13518180.26},
                                      {"inv:1", "energy.pv_yield", t + minutes(1), 13518199.999}}));
    (*st)->close();
  }
  test::Process csv({kBin, "history", "inv:1", "--metric", "energy.pv_yield", "--from",
                     "2026-11-30", "--to", "2026-12-01", "--csv", "-c", cfg.string()});
  EXPECT_EQ(csv.wait(), 0);
  EXPECT_EQ(csv.rest_of_stdout(),
            "time,value,quality\n2026-11-30T08:00:00Z,13518180.26,measured\n"
            "2026-11-30T08:01:00Z,13518199.999,measured\n");
  test::Process step({kBin, "history", "inv:1", "--metric", "energy.pv_yield", "--from",
                      "2026-11-30", "--to", "2026-12-01", "--step", "1h", "--csv", "-c",
                      cfg.string()});
  EXPECT_EQ(step.wait(), 0);
  EXPECT_NE(step.rest_of_stdout().find(",13518199.999,13518180.26,13518199.999,2,measured"),
            std::string::npos);
  fs::remove_all(dir);
}

// The commands take their vendors from one list (cli/vendors.cpp): every vendor a config may
// name has a simulator, and only the clouds with an OAuth app have a sign-in.
TEST(CliE2E, EveryDriverHasASimulatorAndOnlyOAuthCloudsASignIn) {
  test::Process sim({kBin, "simulate", "sonen"});
  EXPECT_EQ(sim.wait(), 1);
  EXPECT_EQ(sim.rest_of_stderr(),
            "sunbridge: no simulator for vendor 'sonen' (valid: enphase, foxess, kostal, solarlog, "
            "sonnen)\n");
  test::Process auth({kBin, "auth", "sonnen", "-c", "/nonexistent.yaml"});
  EXPECT_EQ(auth.wait(), 1);
  EXPECT_EQ(auth.rest_of_stderr(),
            "sunbridge: no OAuth sign-in for vendor 'sonnen' (valid: enphase, foxess; the other "
            "vendors use keys or passwords in the config)\n");
  // A vendor flag is read by its simulator, which names it in its error.
  test::Process idle({kBin, "simulate", "kostal", "--session-idle", "1.5"});
  EXPECT_EQ(idle.wait(), 1);
  EXPECT_EQ(idle.rest_of_stderr(),
            "sunbridge: --session-idle must be a whole number from 1 to 86400 (not '1.5')\n");
}

TEST(CliE2E, WrongFlagIsAUsageErrorThatSaysSo) {
  test::Process p({kBin, "demo", "--lisen", "127.0.0.1:0"});
  EXPECT_EQ(p.wait(), 2);
  EXPECT_NE(p.rest_of_stderr().find("--lisen"), std::string::npos);
  test::Process faults({kBin, "simulate", "sonnen", "--faults", "boom=1"});
  EXPECT_EQ(faults.wait(), 1);
  EXPECT_NE(faults.rest_of_stderr().find("--faults: faults: unknown key 'boom'"),
            std::string::npos);
  // Simulated time: an origin still to come, a time that is not one, a speed out of range.
  test::Process future(
      {kBin, "simulate", "sonnen", "--speed", "60", "--origin", "2999-01-01T00:00:00Z"});
  EXPECT_EQ(future.wait(), 1);
  EXPECT_NE(future.rest_of_stderr().find("--origin 2999-01-01T00:00:00Z is in the future"),
            std::string::npos);
  test::Process garbled(
      {kBin, "run", "-c", "/nonexistent.yaml", "--speed", "60", "--origin", "yesterday"});
  EXPECT_EQ(garbled.wait(), 1);
  EXPECT_NE(garbled.rest_of_stderr().find("--origin 'yesterday' is not a time"), std::string::npos);
  test::Process stopped({kBin, "simulate", "kostal", "--speed", "0"});
  EXPECT_EQ(stopped.wait(), 1);
  EXPECT_NE(stopped.rest_of_stderr().find("--speed must be within (0, 100000]"), std::string::npos);
}

// The browser's part of a sign-in: the authorize address `auth` printed (on the cloud at
// `port`, under `path`), its redirect followed to the loopback listener; the redirect's
// address, empty when a step failed (with the test failed).
std::string sign_in_in_browser(test::Process& auth, const std::string& port,
                               const std::string& path, const std::string& client_id,
                               const std::string& landed_text) {
  std::string url;
  for (int i = 0; i < 5 && url.empty(); ++i) {
    auto l = auth.line();
    if (!l) break;
    auto at = l->find("http://127.0.0.1:" + port + path + "?");
    if (at != std::string::npos) url = l->substr(at);
  }
  EXPECT_FALSE(url.empty()) << auth.rest_of_stderr();
  EXPECT_NE(url.find("client_id=" + client_id), std::string::npos) << url;
  if (url.empty()) return "";
  // The cloud's page redirects to the loopback listener with the code and state.
  Http cloud(std::uint16_t(std::stoi(port)));
  auto page = cloud.call("GET", url.substr(url.find(path)));
  EXPECT_TRUE(page && page->status == 302) << (page ? page->body : "no answer");
  if (!page || page->status != 302) return "";
  std::string location(page->header("Location"));
  std::smatch m;
  EXPECT_TRUE(std::regex_search(location, m, std::regex(R"(^http://127\.0\.0\.1:(\d+)(/.*)$)")))
      << location;
  if (m.empty()) return "";
  Http back(std::uint16_t(std::stoi(m[1])));
  auto landed = back.call("GET", m[2]);
  EXPECT_TRUE(landed && landed->body.find(landed_text) != std::string::npos);
  return location;
}

TEST(CliE2E, FoxessOAuthSignInWithTheLoopbackRedirectThenRead) {
  auto dir = temp_dir("oauth");
  test::Process sim({kBin, "simulate", "foxess", "--listen", "127.0.0.1:0", "--client-id", "my-app",
                     "--client-secret", "my-secret"});
  auto port = listening_port(sim);
  ASSERT_FALSE(port.empty()) << sim.rest_of_stderr();
  auto tokens = dir / "fox-tokens.json";
  auto cfg = write_config(dir, "fox", "foxess", port,
                          "      client_id: my-app\n      client_secret: my-secret\n"
                          "      token_file: " +
                              tokens.string() + "\n");
  // Before signing in, a read says what to run.
  test::Process early({kBin, "read", "fox", "-c", cfg.string()});
  EXPECT_EQ(early.wait(), 1);
  EXPECT_NE(early.rest_of_stderr().find("run `sunbridge auth foxess"), std::string::npos);

  test::Process auth({kBin, "auth", "foxess", "-c", cfg.string(), "--port", "0", "--wait", "20s"});
  auto location = sign_in_in_browser(auth, port, "/public/auth/index.html", "my-app",
                                     "sunbridge received the FoxESS authorization");
  ASSERT_FALSE(location.empty());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(location, m, std::regex(R"(^http://127\.0\.0\.1:(\d+)/)")));
  ASSERT_EQ(auth.wait(), 0) << auth.rest_of_stderr();
  EXPECT_NE(auth.rest_of_stdout().find("saved to " + tokens.string() + " (mode 0600)"),
            std::string::npos);
  EXPECT_EQ(fs::status(tokens).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  test::Process read({kBin, "read", "fox", "-c", cfg.string(), "--json"});
  ASSERT_EQ(read.wait(), 0) << read.rest_of_stderr();
  EXPECT_NE(read.rest_of_stdout().find("\"battery.soc\":"), std::string::npos);

  // A code used twice is refused with the cloud's reason.
  auto code = location.substr(location.find("code=") + 5);
  code = code.substr(0, code.find('&'));
  test::Process reuse({kBin, "auth", "foxess", "-c", cfg.string(), "--code", code, "--redirect-uri",
                       "http://127.0.0.1:" + std::string(m[1]) + "/callback"});
  EXPECT_EQ(reuse.wait(), 1);
  EXPECT_NE(reuse.rest_of_stderr().find("invalid_grant"), std::string::npos);
  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(), 0);
  fs::remove_all(dir);
}

TEST(CliE2E, EnphaseOAuthSignInThenReadWithTheRotatingTokens) {
  auto dir = temp_dir("enphase-oauth");
  test::Process sim({kBin, "simulate", "enphase", "--listen", "127.0.0.1:0", "--client-id",
                     "my-app", "--client-secret", "my-secret", "--api-key", "my-key", "--plan",
                     "kilowatt"});
  auto port = listening_port(sim);
  ASSERT_FALSE(port.empty()) << sim.rest_of_stderr();
  auto tokens = dir / "enphase-tokens.json";
  auto cfg = write_config(dir, "enl", "enphase", port,
                          "      api_key: my-key\n      client_id: my-app\n"
                          "      client_secret: my-secret\n      plan: kilowatt\n"
                          "      token_file: " +
                              tokens.string() + "\n");
  test::Process early({kBin, "read", "enl", "-c", cfg.string()});
  EXPECT_EQ(early.wait(), 1);
  EXPECT_NE(early.rest_of_stderr().find("run `sunbridge auth enphase"), std::string::npos)
      << early.rest_of_stderr();

  test::Process auth({kBin, "auth", "enphase", "-c", cfg.string(), "--port", "0", "--wait", "20s"});
  ASSERT_FALSE(sign_in_in_browser(auth, port, "/oauth/authorize", "my-app",
                                  "sunbridge received the Enphase authorization")
                   .empty());
  ASSERT_EQ(auth.wait(), 0) << auth.rest_of_stderr();
  EXPECT_EQ(fs::status(tokens).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  test::Process read({kBin, "read", "enl", "-c", cfg.string(), "--json"});
  ASSERT_EQ(read.wait(), 0) << read.rest_of_stderr();
  auto out = read.rest_of_stdout();
  EXPECT_NE(out.find("\"energy.pv_yield\":"), std::string::npos) << out;
  EXPECT_NE(out.find("\"ev.power\":"), std::string::npos) << out;
  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(), 0);
  fs::remove_all(dir);
}
