// The crash harness: `sunbridge demo` (the gateway polling all five vendor simulators into one
// SQLite file, commands and leases through its API) killed with SIGKILL at random moments and
// restarted on the same database, again and again: while idle, mid-command and mid-lease.
// After every kill the harness checks what a power cut or an OOM kill must not break:
//   - PRAGMA integrity_check is ok;
//   - the samples only grow, and there is one row per (device, metric, time);
//   - every sample the API reported stored before the kill (the harness's ledger) is there;
//   - no command stays "pending" once the next gateway has started (it becomes "interrupted");
//   - a lease taken before the kill is handed back by the next gateway.
//
// SB_CRASH_KILLS sets the number of kills (12 by default, the short run in `make test`;
// `make crash` runs 120), SB_CRASH_SEED the random seed (printed, to repeat a run).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "e2e_support.hpp"
#include "net/json.hpp"
#include "process.hpp"

using namespace sb;
using namespace std::chrono;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const std::string kBin = SUNBRIDGE_BINARY;

// A started demo: its API port and token, or 0 when it printed none in time.
struct Demo {
  std::unique_ptr<test::Process> process;
  std::uint16_t port = 0;
  std::string token;
};

Demo start_demo(const fs::path& db) {
  Demo d;
  d.process = std::make_unique<test::Process>(std::vector<std::string>{
      kBin, "demo", "--listen", "127.0.0.1:0", "--db", db.string(), "--faults", "error=0.02"});
  for (int i = 0; i < 20 && (d.port == 0 || d.token.empty()); ++i) {
    auto l = d.process->line(seconds(60));
    if (!l) break;
    std::smatch m;
    if (std::regex_search(*l, m,
                          std::regex(R"(dashboard\s+http://127\.0\.0\.1:(\d+)/#token=(\w+))"))) {
      d.port = static_cast<std::uint16_t>(std::stoi(m[1]));
      d.token = m[2];
    }
  }
  return d;
}

// Waits (generously: a loaded 2-core machine) until `ok` holds; false when it never did.
template <typename F>
bool eventually(F ok, milliseconds limit = seconds(60)) {
  auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (ok()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return ok();
}

// (device, metric) -> the times (ms) of the samples the API said were stored.
using Ledger = std::map<std::pair<std::string, std::string>, std::set<std::int64_t>>;

// Adds what the API reports stored (its default range, the last 24 hours) for every value of
// every device.
std::size_t record_ledger(test::Http& api, Ledger& ledger) {
  std::size_t added = 0;
  auto live = test::get_json(api, "/api/v1/live");
  if (!live || !live->is_object() || !live->as_object().contains("devices")) return 0;
  for (const auto& d : live->as_object().at("devices").as_array()) {
    const auto& o = d.as_object();
    std::string id(o.at("device").as_string());
    if (!o.contains("values") || !o.at("values").is_object()) continue;
    for (const auto& [metric, _] : o.at("values").as_object()) {
      auto h =
          test::get_json(api, "/api/v1/devices/" + id + "/history?metric=" + std::string(metric));
      if (!h) continue;
      auto& times = ledger[{id, std::string(metric)}];
      for (const auto& p : h->as_object().at("points").as_array())
        added += times.insert(p.as_array().at(0).to_number<std::int64_t>()).second;
    }
  }
  return added;
}

// The ledger's samples the database does not have (at most 5 named).
std::vector<std::string> missing_from(const fs::path& db, const Ledger& ledger) {
  std::vector<std::string> missing;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return {"the database does not open"};
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h,
                     "SELECT s.t FROM samples s JOIN series r ON r.id = s.series_id "
                     "WHERE r.device_id = ? AND r.metric = ?",
                     -1, &st, nullptr);
  for (const auto& [key, times] : ledger) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, key.first.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key.second.c_str(), -1, SQLITE_TRANSIENT);
    std::set<std::int64_t> stored;
    while (sqlite3_step(st) == SQLITE_ROW) stored.insert(sqlite3_column_int64(st, 0));
    for (auto t : times)
      if (!stored.contains(t) && missing.size() < 5)
        missing.push_back(key.first + " " + key.second + " at " + std::to_string(t));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return missing;
}

std::string integrity(const fs::path& db) {
  sqlite3* h = nullptr;
  std::string out = "cannot open";
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    out.clear();
    if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK)
      while (sqlite3_step(st) == SQLITE_ROW)
        out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return out;
}

}  // namespace

TEST(Crash, KilledAtRandomMomentsTheGatewayKeepsEverythingItAcknowledged) {
  const int kills = static_cast<int>(test::env_number("SB_CRASH_KILLS", 12));
  const auto seed = static_cast<unsigned>(test::env_number("SB_CRASH_SEED", ::getpid()));
  std::printf("crash harness: %d kills, seed %u (SB_CRASH_SEED to repeat)\n", kills, seed);
  std::mt19937 rng(seed);
  auto dir = test::temp_dir("crash");
  auto db = dir / "crash.db";
  Ledger ledger;
  std::int64_t samples_before = 0;
  std::int64_t last_lease = 0;    // taken before the last kill, to be handed back
  std::int64_t last_command = 0;  // the newest command row before the last kill
  int mid_command = 0, mid_lease = 0, idle = 0, handed_back = 0, interrupted = 0;
  std::size_t acknowledged = 0;

  for (int round = 0; round < kills; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " (seed " + std::to_string(seed) + ")");
    auto demo = start_demo(db);
    ASSERT_NE(demo.port, 0) << "the demo did not start: " << demo.process->rest_of_stderr();
    test::Http api(demo.port);
    net::Headers auth{{"Authorization", "Bearer " + demo.token},
                      {"Content-Type", "application/json"}};
    // The gateway is up and polling: every device listed, the battery answering.
    ASSERT_TRUE(eventually([&] {
      auto r = api.call("GET", "/api/v1/devices/sonnen:battery/live");
      return r && r->status == 200 && r->body.find("battery.soc") != std::string::npos;
    })) << demo.process->rest_of_stderr();

    // What the killed process left: its lease handed back, no command left pending.
    if (last_lease > 0) {
      EXPECT_TRUE(eventually([&] {
        return test::count_rows(db, "SELECT count(*) FROM leases WHERE id = " +
                                        std::to_string(last_lease) + " AND state <> 'active'") == 1;
      })) << "lease "
          << last_lease << " was not handed back after the restart";
      ++handed_back;
    }
    EXPECT_EQ(test::count_rows(db,
                               "SELECT count(*) FROM commands WHERE status = 'pending' AND "
                               "id <= " +
                                   std::to_string(last_command)),
              0);
    interrupted = static_cast<int>(
        test::count_rows(db, "SELECT count(*) FROM commands WHERE status = 'interrupted'"));
    last_lease = 0;

    // Load, and what the gateway acknowledges.
    std::uniform_int_distribution<int> moment(0, 2);
    int what = moment(rng);
    acknowledged += record_ledger(api, ledger);
    if (what == 1) {  // a lease that is still held at the kill
      auto r = api.call("POST", "/api/v1/devices/sonnen:battery/commands",
                        R"({"command":"min-soc","value":)" + std::to_string(20 + round % 30) +
                            R"(,"duration_s":3600})",
                        auth);
      ASSERT_TRUE(r && r->status == 200) << (r ? r->body : r.error().message);
      auto leases = test::get_json(api, "/api/v1/leases?active=true");
      ASSERT_TRUE(leases);
      for (const auto& l : leases->as_array())
        last_lease = std::max(last_lease, l.as_object().at("id").to_number<std::int64_t>());
      EXPECT_GT(last_lease, 0);
      ++mid_lease;
    }
    acknowledged += record_ledger(api, ledger);
    std::uniform_int_distribution<int> wait_ms(0, 1500);
    std::this_thread::sleep_for(milliseconds(wait_ms(rng)));  // a random moment, not a wait
    std::thread in_flight;
    if (what == 2) {  // killed while a command runs (sent, its answer not yet back)
      in_flight = std::thread([port = demo.port, auth, round] {
        test::Http other(port);
        (void)other.call(
            "POST", "/api/v1/devices/sonnen:battery/commands",
            R"({"command":"battery-power","value":)" + std::to_string(-500 - 10 * round) + "}",
            auth);
      });
      std::uniform_int_distribution<int> soon(0, 60);
      std::this_thread::sleep_for(milliseconds(soon(rng)));
      ++mid_command;
    } else if (what == 0) {
      ++idle;
    }
    last_command = test::count_rows(db, "SELECT coalesce(max(id), 0) FROM commands");
    demo.process->signal(SIGKILL);
    EXPECT_EQ(demo.process->wait(seconds(30)), 128 + SIGKILL);
    if (in_flight.joinable()) in_flight.join();
    last_command =
        std::max(last_command, test::count_rows(db, "SELECT coalesce(max(id), 0) FROM commands"));

    // The database as the kill left it.
    EXPECT_EQ(integrity(db), "ok");
    auto samples = test::count_rows(db, "SELECT count(*) FROM samples");
    EXPECT_GE(samples, samples_before) << "samples were lost";
    samples_before = samples;
    EXPECT_EQ(test::count_rows(db,
                               "SELECT count(*) FROM (SELECT 1 FROM series GROUP BY "
                               "device_id, metric HAVING count(*) > 1)"),
              0);
    EXPECT_EQ(test::count_rows(db,
                               "SELECT count(*) FROM (SELECT 1 FROM samples GROUP BY "
                               "series_id, t HAVING count(*) > 1)"),
              0);
    auto missing = missing_from(db, ledger);
    EXPECT_TRUE(missing.empty()) << "acknowledged samples missing, e.g. " << missing.front();
    if (HasFatalFailure()) break;
  }
  // One more start after the last kill: it hands back the last lease, and closes a command
  // the kill left pending as interrupted.
  {
    bool pending =
        test::count_rows(db, "SELECT count(*) FROM commands WHERE status = 'pending'") > 0;
    auto demo = start_demo(db);
    ASSERT_NE(demo.port, 0);
    if (last_lease > 0) {
      EXPECT_TRUE(eventually([&] {
        return test::count_rows(db, "SELECT count(*) FROM leases WHERE id = " +
                                        std::to_string(last_lease) + " AND state <> 'active'") == 1;
      }));
      ++handed_back;
    }
    if (pending) {
      EXPECT_TRUE(eventually([&] {
        return test::count_rows(db, "SELECT count(*) FROM commands WHERE status = 'pending'") == 0;
      }));
      ++interrupted;
    }
    demo.process->signal(SIGINT);
    demo.process->wait(seconds(30));
  }
  EXPECT_EQ(test::count_rows(db, "SELECT count(*) FROM commands WHERE status = 'pending'"), 0);
  std::printf(
      "crash harness: %d kills (%d idle, %d mid-lease, %d mid-command), %lld samples stored, "
      "%zu acknowledged samples all present, %d leases handed back, %d commands interrupted, "
      "0 integrity errors, 0 duplicates\n",
      kills, idle, mid_lease, mid_command, static_cast<long long>(samples_before), acknowledged,
      handed_back, interrupted);
  if (!HasFailure()) fs::remove_all(dir);
}
