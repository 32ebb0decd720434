// The fleet's shared view at 10,000 connections: every 2 s each worker writes the status of the
// connections it holds (a third of them with three workers) and reads back the rows that
// changed, decoding them into its FleetView. Figures: one worker's write, one worker's read
// of what changed in a round (a connection's status changes once per poll: polls every 10 s
// or slower change a fifth of the rows per 2 s round, at most), and a full read (a worker
// starting). Against the bench's own PostgreSQL 15 (tests/pg_server.hpp).
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>
#include <chrono>

#include "core/metric.hpp"
#include "core/test_gateway.hpp"
#include "engine/fleet_status.hpp"
#include "outputs/rest/fleet_sites.hpp"
#include "pg_server.hpp"
#include "store/fleet.hpp"
#include "store/store.hpp"

namespace {

using namespace sb;

constexpr int kConnections = 10'000;
constexpr int kWorkers = 3;

// A sonnen battery's status as a holder writes it: health, one device with its values and
// commands.
engine::ConnectionStatus battery_status(int i, std::int64_t t) {
  engine::ConnectionStatus s;
  auto name = "conn-" + std::to_string(i);
  s.health.name = name;
  s.health.vendor = "sonnen";
  s.health.site = "site-" + std::to_string(i);
  s.health.state = "ok";
  s.health.worker = "w" + std::to_string(i % kWorkers);
  s.health.last_success = from_ms(t);
  s.health.polls = t / 10'000;
  s.health.latency_counts[3] = static_cast<std::uint64_t>(s.health.polls);
  engine::RemoteDevice d;
  d.live.device = {name + ":battery", s.health.site, name,     "sonnen", "battery",
                   "sonnen",          "eco 8",       "123456", "1.14.5"};
  d.live.online = true;
  d.live.last_success = from_ms(t);
  for (int m = 0; m < 14; ++m)
    d.live.values.push_back(
        {"metric." + std::to_string(m), from_ms(t), 100.0 * m + i % 97, Quality::Measured});
  d.capabilities.history = false;
  d.capabilities.commands.push_back({CommandType::BatteryPower, -3300, 3300, {}, 0});
  d.capabilities.commands.push_back({CommandType::MinSoc, 0, 100, {}, 0});
  d.capabilities.commands.push_back({CommandType::Release, 0, 0, {}, 0});
  s.devices.push_back(std::move(d));
  return s;
}

struct Fixture {
  test::PgServer server;
  std::unique_ptr<store::Fleet> fleet;
  std::string error;
  std::size_t doc_bytes = 0;

  Fixture() {
    auto url = server.create_database("status");
    if (!server.error().empty()) {
      error = server.error();
      return;
    }
    auto st = store::open_postgres(url);
    if (!st) {
      error = st.error().message;
      return;
    }
    (void)(*st)->upsert_site({"site", "Site", 0, 0, "UTC"});
    (*st)->close();
    auto f = store::open_fleet(url);
    if (!f) {
      error = f.error().message;
      return;
    }
    fleet = std::move(*f);
    for (int i = 0; i < kConnections; ++i)
      if (auto r =
              fleet->put_connection({"conn-" + std::to_string(i), "site", "sonnen", "", "{}", {}});
          !r) {
        error = r.error().message;
        return;
      }
    holder.resize(kConnections);
    for (int w = 0; w < kWorkers; ++w) {
      auto r = fleet->claim("w" + std::to_string(w), kConnections / kWorkers + 1,
                            std::chrono::hours(10));
      if (!r) {
        error = r.error().message;
        return;
      }
      for (const auto& l : *r) holder[std::stoul(l.connection.substr(5))] = w;
    }
    write(0, 0, kConnections);
  }

  // Which worker holds conn-i (claims take any free connection).
  std::vector<int> holder;

  // Writes connections [from, to), each by the worker holding it.
  void write(std::int64_t t, int from, int to) {
    std::vector<std::vector<std::pair<std::string, std::string>>> rows(kWorkers);
    for (int i = from; i < to; ++i) {
      auto doc = engine::encode_status(battery_status(i, t));
      doc_bytes = doc.size();
      rows[static_cast<std::size_t>(holder[static_cast<std::size_t>(i)])].emplace_back(
          "conn-" + std::to_string(i), std::move(doc));
    }
    for (int w = 0; w < kWorkers; ++w)
      if (auto r = fleet->put_status("w" + std::to_string(w), rows[static_cast<std::size_t>(w)]);
          !r)
        error = r.error().message;
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

}  // namespace

// Writing one worker's share of the changed rows (a fifth of its 3,334 per round).
static void BM_FleetStatusWriteRound(benchmark::State& state) {
  auto& f = fixture();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  std::vector<int> own;
  for (int i = 0; i < kConnections; ++i)
    if (f.holder[static_cast<std::size_t>(i)] == 0) own.push_back(i);
  std::int64_t t = 1'763'700'000'000;
  std::size_t from = 0, written = 0;
  const std::size_t changed = own.size() / 5;
  for (auto _ : state) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (std::size_t k = from; k < from + changed; ++k) {
      int i = own[k % own.size()];
      rows.emplace_back("conn-" + std::to_string(i), engine::encode_status(battery_status(i, t)));
    }
    written = rows.size();
    if (auto r = f.fleet->put_status("w0", rows); !r)
      state.SkipWithError(r.error().message.c_str());
    from = (from + changed) % own.size();
    t += 2'000;
  }
  state.counters["rows"] = static_cast<double>(written);
  state.counters["doc bytes"] = static_cast<double>(f.doc_bytes);
}

// Reading back and decoding the statuses: every one (a worker starting), or those written
// since the last read (a round: a fifth of them changed, the others kept as decoded).
static void BM_FleetStatusRead(benchmark::State& state) {
  auto& f = fixture();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  const bool changed_only = state.range(0) == 1;
  std::size_t rows = 0, decoded = 0;
  std::int64_t t = 1'800'000'000'000;
  int from = 0;
  for (auto _ : state) {
    std::optional<TimePoint> since;
    if (changed_only) {
      state.PauseTiming();
      auto before = f.fleet->statuses(std::nullopt);
      if (!before) return state.SkipWithError(before.error().message.c_str());
      for (const auto& row : *before)
        if (!since || row.updated_at > *since) since = row.updated_at;
      f.write(t += 2'000, from, from + kConnections / 5);
      from = (from + kConnections / 5) % kConnections;
      state.ResumeTiming();
    }
    auto all = f.fleet->statuses(since);
    if (!all) return state.SkipWithError(all.error().message.c_str());
    decoded = 0;
    for (const auto& row : *all) {
      if (row.status.empty()) continue;
      auto st = engine::decode_status(row.status, row.connection);
      if (!st) return state.SkipWithError(st.error().message.c_str());
      benchmark::DoNotOptimize(st->devices.size());
      ++decoded;
    }
    rows = all->size();
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["decoded"] = static_cast<double>(decoded);
}

// The fleet's connections, read with the statuses every round (for those nobody holds).
static void BM_FleetConnectionsRead(benchmark::State& state) {
  auto& f = fixture();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  for (auto _ : state) {
    auto c = f.fleet->connections();
    if (!c) return state.SkipWithError(c.error().message.c_str());
    benchmark::DoNotOptimize(c->size());
  }
}

// The fleet page's answer at 10,000 sites (GET /api/v1/fleet/sites?sort=pv&order=desc, a page
// of 50): every site's row from the gateway's live values and health, filtered, sorted, paged
// and written as JSON; the page's energy today (store reads for its 50 rows, kept a minute) is
// left out. The gateway answers from memory as a worker's does from its FleetView.
static void BM_FleetSitesPage(benchmark::State& state) {
  test::FakeGateway gw;
  gw.sites_.clear();
  const std::int64_t t = 1'763'700'000'000;
  for (int i = 0; i < kConnections; ++i) {
    auto s = battery_status(i, t);
    gw.sites_.push_back({s.health.site, "Site " + std::to_string(i)});
    // PV and battery power as the page sums them, and a state of charge.
    auto& values = s.devices.front().live.values;
    values[0].metric = metric::kPvPower;
    values[1].metric = metric::kBatteryPower;
    values[2].metric = metric::kBatterySoc;
    gw.health_.push_back(s.health);
    gw.live_.push_back(s.devices.front().live);
  }
  rest::FleetQuery q;
  q.sort = "pv";
  q.descending = true;
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto page = rest::fleet_page(rest::site_rows(gw), q);
    boost::json::array sites;
    for (const auto& r : page.rows) sites.push_back(rest::site_row_json(r, nullptr));
    bytes = boost::json::serialize(sites).size();
  }
  state.counters["sites"] = kConnections;
  state.counters["page bytes"] = static_cast<double>(bytes);
}

BENCHMARK(BM_FleetSitesPage)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FleetStatusWriteRound)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FleetStatusRead)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FleetConnectionsRead)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
