// The fleet harness: `sunbridge demo --fleet` with SB_FLEET_SITES homes (100 in `make test`,
// 1,000 in `make fleet-test`) across the five vendors, shared by three workers on one
// PostgreSQL. While a command of one worker holds a battery, that worker is killed with
// SIGKILL; checked: every connection it polled is polled by the others again within the lease
// and a poll interval (plus time for a login), the held battery's lease is taken over and handed
// back when its time is up, a second command in flight at the kill gets a definite answer and
// leaves nothing running, no sample is stored twice, and no simulator refused a call for a
// vendor's limit. The figures (and the gaps the kill left, where a hole outlasted a
// connection's gap threshold) are printed.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <thread>

#include "e2e_support.hpp"
#include "net/json.hpp"
#include "pg_server.hpp"
#include "ports.hpp"
#include "process.hpp"

using namespace sb;
using namespace std::chrono;

namespace {

constexpr const char* kBin = SUNBRIDGE_BINARY;

// Three ports in a row that nothing listens on (the demo's workers take them), below the
// ephemeral range: the demo's simulators, started first, listen on ephemeral ports and would
// take one of these otherwise.
std::uint16_t three_free_ports() {
  for (std::uint16_t p = static_cast<std::uint16_t>(20000 + ::getpid() % 5000);; p += 3)
    if (!test::accepts(p) && !test::accepts(p + 1) && !test::accepts(p + 2)) return p;
}

}  // namespace

TEST(FleetHarness, AKilledWorkersConnectionsResumeOnTheOthersAndNothingIsLost) {
  const int sites = std::max(10, static_cast<int>(test::env_number("SB_FLEET_SITES", 100)));
  test::PgServer pg;
  ASSERT_EQ(pg.error(), "");
  auto url = pg.create_database("fleet");
  ASSERT_EQ(pg.error(), "");
  auto value = [&](const std::string& q) { return pg.value("fleet", q); };
  auto wait_for = [](auto done, seconds limit) {
    auto deadline = steady_clock::now() + limit;
    while (!done() && steady_clock::now() < deadline) std::this_thread::sleep_for(seconds(1));
    return done();
  };

  auto port = three_free_ports();
  auto started = steady_clock::now();
  test::Process demo({kBin, "demo", "--fleet", "--db", url, "--sites", std::to_string(sites),
                      "--workers", "3", "--listen", "127.0.0.1:" + std::to_string(port),
                      // Every answer of every home 50 ms late: polls and commands are in
                      // flight much of the time, so the kill lands in the middle of them.
                      "--faults", "latency=50ms"});
  std::string out, token;
  std::vector<pid_t> pids;
  std::regex worker_line(R"(worker \d+ +pid (\d+),)"), token_line(R"(API token +([0-9a-f]+))");
  while (auto l = demo.line(seconds(300))) {
    out += *l + "\n";
    std::smatch m;
    if (std::regex_search(*l, m, worker_line)) pids.push_back(std::stoi(m[1]));
    if (std::regex_search(*l, m, token_line)) token = m[1];
    if (l->find("Press Ctrl-C") != std::string::npos) break;
  }
  ASSERT_EQ(pids.size(), 3u) << out;
  // Any worker's page: worker 1's to begin with.
  auto states = [&](std::uint16_t at) {
    test::Http api(at);
    auto r = api.call("GET", "/api/v1/fleet/sites?limit=1");
    if (!r || r->status != 200) return std::string("unreachable");
    auto o = net::parse_json_object(r->body, "sites");
    return o ? net::to_json((*o)["states"]) : r->body;
  };
  const auto all_ok = R"({"ok":)" + std::to_string(sites) + "}";
  // Every site ok, and the connections spread over the three workers.
  auto spread = [&] {
    return value(
               "SELECT count(DISTINCT worker) FROM fleet_leases WHERE expires_at > "
               "(extract(epoch FROM clock_timestamp()) * 1000)::bigint") == "3";
  };
  ASSERT_TRUE(wait_for([&] { return spread() && states(port) == all_ok; }, seconds(600)))
      << states(port);
  auto ready_s = duration_cast<seconds>(steady_clock::now() - started).count();

  // The victim: the worker polling the first sonnen battery, which gets a 30 s command through
  // another worker's API just before the kill.
  auto battery = value("SELECT min(device_id) FROM series WHERE device_id LIKE 'sonnen-%'");
  ASSERT_FALSE(battery.empty());
  auto victim = value("SELECT worker FROM fleet_leases WHERE connection = '" +
                      battery.substr(0, battery.find(':')) + "'");
  auto victim_pid = std::stoi(value("SELECT pid FROM fleet_workers WHERE id = '" + victim + "'"));
  auto k = std::find(pids.begin(), pids.end(), victim_pid) - pids.begin();
  ASSERT_LT(k, 3);
  auto other = static_cast<std::uint16_t>(port + (k + 1) % 3);
  auto held = std::stoi(value("SELECT count(*) FROM fleet_leases WHERE worker = '" + victim + "'"));
  auto moved = value(
      "SELECT string_agg(quote_literal(connection), ',') FROM fleet_leases WHERE "
      "worker = '" +
      victim + "'");
  test::Http front(other);
  auto cmd = front.call("POST", "/api/v1/devices/" + battery + "/commands",
                        R"({"command":"battery-power","value":-1000,"duration_s":30})",
                        {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(cmd);
  ASSERT_EQ(cmd->status, 200) << cmd->body;
  EXPECT_EQ(value("SELECT state FROM leases"), "active");

  // A second command, in flight when the worker dies: another of the victim's batteries gets a
  // minimum SoC through the same front worker, which queues it for the victim; the victim is
  // killed the moment the queue shows the command (queued or being applied).
  auto second = value(
      "SELECT min(device_id) FROM series WHERE device_id LIKE 'sonnen-%:battery' AND device_id "
      "<> '" +
      battery + "' AND split_part(device_id, ':', 1) IN (" + moved + ")");
  ASSERT_FALSE(second.empty()) << "the victim holds one battery only";
  std::optional<Result<net::HttpResponse>> inflight;
  std::thread caller([&] {
    test::Http slow(other, seconds(240));
    inflight =
        slow.call("POST", "/api/v1/devices/" + second + "/commands",
                  R"({"command":"min-soc","value":25})", {{"Authorization", "Bearer " + token}});
  });
  std::string at_kill;
  for (auto until = steady_clock::now() + seconds(60);
       at_kill.empty() && steady_clock::now() < until;)
    at_kill = value("SELECT status FROM fleet_commands WHERE command = 'min-soc'");
  ::kill(victim_pid, SIGKILL);
  // Every connection the victim held is polled again by another worker: the new holder's status
  // of it counts a successful poll (a cloud's last_success is the vendor's data time, minutes
  // old, so the harness's own clock times it). Looked at every second.
  auto killed_at = steady_clock::now();
  std::map<std::string, int> resumed_after;  // connection -> seconds after the kill
  auto look = [&] {
    auto rows = value(
        "SELECT coalesce(string_agg(connection, ','), '') FROM fleet_status WHERE worker <> '" +
        victim + "' AND connection IN (" + moved +
        ") AND (status::json->'health'->>'polls')::bigint > (status::json->'health'->>"
        "'failures')::bigint");
    auto now_s = static_cast<int>(duration_cast<seconds>(steady_clock::now() - killed_at).count());
    for (std::size_t at = 0; at < rows.size();) {
      auto comma = rows.find(',', at);
      resumed_after.emplace(rows.substr(at, comma - at), now_s);
      at = comma == std::string::npos ? rows.size() : comma + 1;
    }
    return static_cast<int>(resumed_after.size()) >= held;
  };
  EXPECT_TRUE(wait_for(look, seconds(240))) << resumed_after.size() << " of " << held;
  std::vector<int> d;
  for (const auto& kv : resumed_after) d.push_back(kv.second);
  std::sort(d.begin(), d.end());
  ASSERT_FALSE(d.empty());
  // Within the lease (20 s), the longest poll interval of the demo's homes (60 s) and a login.
  EXPECT_LE(d.back(), 110);
  // The held battery: taken over by its new holder and handed back when the 30 s are up.
  EXPECT_TRUE(
      wait_for([&] { return value("SELECT state FROM leases") == "released"; }, seconds(120)))
      << value("SELECT state || ' ' || detail FROM leases");
  auto lease = value("SELECT detail FROM leases");
  // The command in flight got a definite answer: applied (by the victim before it died, or by
  // the new holder), or refused as interrupted; nothing is left running in the queue or the
  // audit.
  caller.join();
  ASSERT_TRUE(inflight && *inflight) << (inflight ? inflight->error().message : "no call");
  auto& answer = **inflight;
  EXPECT_TRUE(answer.status == 200 || (answer.body.find("\"error\"") != std::string::npos &&
                                       answer.body.find(second) != std::string::npos))
      << answer.status << " " << answer.body;
  EXPECT_TRUE(wait_for(
      [&] {
        return value("SELECT count(*) FROM fleet_commands WHERE status IN ('queued', 'running')") ==
                   "0" &&
               value("SELECT count(*) FROM commands WHERE status = 'running'") == "0";
      },
      seconds(120)))
      << value("SELECT string_agg(command || ' ' || status, ', ') FROM fleet_commands");
  auto inflight_outcome =
      value("SELECT f.status || coalesce(' by ' || CASE WHEN f.worker = '" + victim +
            "' THEN 'the killed worker' ELSE 'its new holder' END, '') || coalesce(', audit ' || "
            "c.status, '') FROM fleet_commands f LEFT JOIN commands c ON c.id = f.audit_id WHERE "
            "f.command = 'min-soc'");
  EXPECT_EQ(value("SELECT count(*) FROM events WHERE code = 'lease.taken_over'"), "1");
  auto duplicates = value(
      "SELECT count(*) FROM (SELECT series_id, t FROM samples GROUP BY 1, 2 HAVING count(*) > 1) "
      "x");
  EXPECT_EQ(duplicates, "0");
  // A hole longer than a connection's gap threshold is a gap, backfilled where the vendor has
  // history; a takeover quicker than that leaves none.
  EXPECT_TRUE(wait_for(
      [&] {
        return value(
                   "SELECT count(*) FROM gaps WHERE status = 'open' AND split_part(device_id, "
                   "':', 1) IN (" +
                   moved + ")") == "0";
      },
      seconds(240)))
      << value(
             "SELECT string_agg(device_id || ' ' || metric || ' ' || detail, '; ') FROM gaps "
             "WHERE status = 'open'");
  auto gaps = value(
      "SELECT count(*) || ' (' || coalesce(string_agg(DISTINCT status, ', '), '') || ')' FROM "
      "gaps WHERE split_part(device_id, ':', 1) IN (" +
      moved + ")");
  // Every site ok again (its devices' values fresh), as any worker's page shows it.
  EXPECT_TRUE(wait_for([&] { return states(other) == all_ok; }, seconds(300))) << states(other);
  auto recovered_s = duration_cast<seconds>(steady_clock::now() - killed_at).count();

  std::cout << "fleet harness: " << sites << " sites/connections, 3 workers, all ok after "
            << ready_s << " s\n"
            << "  killed a worker (SIGKILL) holding " << held << " connections\n"
            << "  resumed on the others: " << d.size() << " connections, polled again "
            << "after the kill: median " << d[d.size() / 2] << " s, max " << d.back() << " s\n"
            << "  every site ok again " << recovered_s << " s after the kill\n"
            << "  command lease on " << battery << ": " << lease << "\n"
            << "  command in flight at the kill (" << second << ", " << at_kill
            << "): " << inflight_outcome << ", the caller got " << answer.status << " "
            << answer.body.substr(0, 160) << "\n"
            << "  duplicate samples: " << duplicates << "; gaps recorded for the moved "
            << "connections: " << gaps << "\n"
            << std::flush;
  demo.signal(SIGINT);
  // No vendor refused a call for its limits: the fleet's budgets held across the kill (the
  // demo prints what its simulators counted as it stops).
  std::string refused;
  while (auto l = demo.line(seconds(120))) {
    if (l->starts_with("calls refused for a vendor limit")) refused = *l;
    if (*l == "stopped") break;
  }
  EXPECT_EQ(demo.wait(seconds(120)), 0);
  EXPECT_TRUE(
      refused.starts_with("calls refused for a vendor limit, counted at the simulators: 0 "))
      << refused;
  std::cout << "  " << refused << "\n" << std::flush;
}
