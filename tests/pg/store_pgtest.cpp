// The PostgreSQL store against a real PostgreSQL 15 server the test starts on a loopback port
// (pg_fixture.hpp): the same behaviour as the SQLite store (idempotent writes, quality,
// buckets and rollups, events, audit, gaps, leases, counter resets), and what only a shared
// server has: workers migrating at once, monthly partitions made for any month written and
// dropped by retention, a server restart waited out without losing a sample, a password
// that never shows in a message, and `sunbridge migrate` from SQLite.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "pg/pg_fixture.hpp"
#include "store/owner_lock.hpp"
#include "store/store.hpp"

using namespace sb;
using namespace sb::store;
using namespace std::chrono;
using test::kBin;

namespace {

using PostgresStore = test::PgTest;

Sample sample(std::string metric, std::int64_t ms, double v, Quality q = Quality::Measured) {
  return {"sonnen1/123", std::move(metric), from_ms(ms), v, q};
}

constexpr std::int64_t kHour = 3'600'000;
// 2026-11-02 00:00 UTC: samples of "now" for the tests, whatever the machine's date.
constexpr std::int64_t kT0 = 1'793'577'600'000;

}  // namespace

TEST_F(PostgresStore, SitesAndDevicesRoundTripAndUpdate) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->upsert_site({"home", "Home", 52.5, 13.4, "Europe/Berlin"}));
  DeviceInfo d{"sonnen1/123", "home",  "sonnen1", "sonnen", "battery",
               "sonnen",      "eco 8", "123",     "1.0"};
  ASSERT_TRUE(s->upsert_device(d, from_ms(1000)));
  d.firmware = "1.1";
  ASSERT_TRUE(s->upsert_device(d, from_ms(2000)));
  auto sites = s->sites();
  ASSERT_TRUE(sites);
  ASSERT_EQ(sites->size(), 1u);
  EXPECT_EQ((*sites)[0].timezone, "Europe/Berlin");
  EXPECT_EQ((*sites)[0].latitude, 52.5);
  auto devices = s->devices();
  ASSERT_TRUE(devices);
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].firmware, "1.1");
  EXPECT_EQ(value("SELECT first_seen || '/' || last_seen FROM devices"), "1000/2000");
  // A device of a site that is not there is refused, and says which.
  d.id = "x";
  d.site = "nowhere";
  auto bad = s->upsert_device(d, from_ms(3000));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("upsert device x"), std::string::npos) << bad.error().message;
}

TEST_F(PostgresStore, UpsertIsIdempotentAndQualityNeverDegrades) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->write_samples(
      {sample("battery.soc", kT0 + 1000, 50), sample("battery.soc", kT0 + 2000, 51)}));
  // Replay: same keys, no duplicates.
  ASSERT_TRUE(s->write_samples(
      {sample("battery.soc", kT0 + 1000, 50), sample("battery.soc", kT0 + 2000, 51)}));
  // A backfilled value does not replace a measured one; a measured one replaces a backfilled
  // one; within one batch the better quality wins, and of equals the one written last.
  ASSERT_TRUE(s->write_samples({sample("battery.soc", kT0 + 2000, 99, Quality::Backfilled),
                                sample("battery.soc", kT0 + 3000, 40, Quality::Backfilled)}));
  ASSERT_TRUE(s->write_samples({sample("battery.soc", kT0 + 3000, 52, Quality::Measured),
                                sample("battery.soc", kT0 + 4000, 60, Quality::Backfilled),
                                sample("battery.soc", kT0 + 4000, 61, Quality::Measured),
                                sample("battery.soc", kT0 + 4000, 62, Quality::Measured)}));
  auto h = s->history({"sonnen1/123", "battery.soc", {from_ms(kT0), from_ms(kT0 + 10'000)}});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[1].value, 51);
  EXPECT_EQ((*h)[1].quality, Quality::Measured);
  EXPECT_EQ((*h)[2].value, 52);
  EXPECT_EQ((*h)[3].value, 62);
  EXPECT_EQ(value("SELECT count(*) FROM samples"), "4");
  EXPECT_EQ(s->stats().samples_written, 10u);  // every sample handed over, kept or not
}

TEST_F(PostgresStore, QueuedSamplesOfAnyMonthGetTheirPartitionAndRollups) {
  auto s = open();
  ASSERT_TRUE(s);
  // The current month and two ahead exist from the start.
  EXPECT_EQ(value("SELECT count(*) >= 3 FROM pg_inherits WHERE inhparent = 'samples'::regclass"),
            "t");
  // A backfill from 2019 and a day of 10-s polls now, through the queue.
  const std::int64_t old = 1'561'939'200'000;  // 2019-07-01 00:00 UTC
  std::vector<Sample> batch;
  for (int i = 0; i < 360; ++i) batch.push_back(sample("grid.power", old + i * 10'000LL, i));
  ASSERT_TRUE(s->enqueue(batch));
  batch.clear();
  for (int i = 0; i < 8640; ++i)
    batch.push_back(sample("grid.power", kT0 + i * 10'000LL, (i % 360) * 2.0));
  ASSERT_TRUE(s->enqueue(std::move(batch)));
  ASSERT_TRUE(s->flush());
  EXPECT_EQ(value("SELECT count(*) FROM samples_2019_07"), "360");
  EXPECT_EQ(value("SELECT count(*) FROM samples"), "9000");
  s->close();  // the hours still waiting are rolled up
  // The hourly buckets from the rollups (hour-aligned) equal those from the samples.
  auto again = open();
  ASSERT_TRUE(again);
  auto hourly = again->history(
      {"sonnen1/123", "grid.power", {from_ms(kT0), from_ms(kT0 + 24 * kHour)}, Millis(kHour)});
  auto raw = again->history({"sonnen1/123",
                             "grid.power",
                             {from_ms(kT0 + 1), from_ms(kT0 + 24 * kHour + 1)},
                             Millis(kHour)});
  ASSERT_TRUE(hourly);
  ASSERT_TRUE(raw);
  ASSERT_EQ(hourly->size(), 24u);
  EXPECT_EQ(value("SELECT count(*) FROM rollups_hour"), "25");
  for (std::size_t i = 0; i < 24; ++i) {
    EXPECT_EQ((*hourly)[i].count, 360) << i;
    EXPECT_DOUBLE_EQ((*hourly)[i].value, 359.0) << i;  // mean of 0, 2, …, 718
    EXPECT_EQ((*hourly)[i].max, 718) << i;
  }
  EXPECT_DOUBLE_EQ((*raw)[1].value, (*hourly)[1].value);
  auto before = again->sample_at_or_before("sonnen1/123", "grid.power", from_ms(kT0 - 1));
  ASSERT_TRUE(before && *before);
  EXPECT_EQ(to_ms((*before)->time), old + 359 * 10'000LL);
  auto after = again->sample_at_or_after("sonnen1/123", "grid.power", from_ms(old + 1));
  ASSERT_TRUE(after && *after);
  EXPECT_EQ(to_ms((*after)->time), old + 10'000);
  auto last = again->last_sample_time("sonnen1/123");
  ASSERT_TRUE(last && *last);
  EXPECT_EQ(to_ms(**last), kT0 + 8639 * 10'000LL);
  EXPECT_EQ(*again->metrics("sonnen1/123"), std::vector<std::string>{"grid.power"});
}

TEST_F(PostgresStore, BucketsAverageGaugesAndTakeTheLastCounterValue) {
  auto s = open();
  ASSERT_TRUE(s);
  std::vector<Sample> v;
  for (int i = 0; i < 6; ++i) {
    v.push_back(sample("battery.soc", kT0 + i * 10'000LL, 50 + i));
    v.push_back(sample("energy.pv_yield", kT0 + i * 10'000LL, 1000 + i * 5));
  }
  ASSERT_TRUE(s->write_samples(v));
  auto g = s->history(
      {"sonnen1/123", "battery.soc", {from_ms(kT0), from_ms(kT0 + 60'000)}, Millis(30'000)});
  ASSERT_TRUE(g);
  ASSERT_EQ(g->size(), 2u);
  EXPECT_DOUBLE_EQ((*g)[0].value, 51);  // mean of 50, 51, 52
  EXPECT_EQ((*g)[1].min, 53);
  EXPECT_EQ((*g)[1].count, 3);
  auto c = s->history(
      {"sonnen1/123", "energy.pv_yield", {from_ms(kT0), from_ms(kT0 + 60'000)}, Millis(30'000)});
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].value, 1010);  // the last of the bucket
  EXPECT_EQ((*c)[1].value, 1025);
  // A series nobody wrote reads empty, not as an error.
  auto none = s->history({"nobody", "battery.soc", {from_ms(kT0), from_ms(kT0 + 60'000)}});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(PostgresStore, EventsAreIdempotentAndNewestFirst) {
  auto s = open();
  ASSERT_TRUE(s);
  std::vector<Event> e{{"a", from_ms(1000), Severity::Warning, "x.one", "it's \"quoted\" \\ here"},
                       {"b", from_ms(2000), Severity::Error, "x.two", "second"},
                       {"a", from_ms(1000), Severity::Warning, "x.one", "again"}};
  ASSERT_TRUE(s->add_events(e));
  ASSERT_TRUE(s->add_events(e));
  auto all = s->events({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].code, "x.two");
  EXPECT_EQ((*all)[1].message, "it's \"quoted\" \\ here");
  EventQuery q;
  q.devices = {"a"};
  EXPECT_EQ(s->events(q)->size(), 1u);
  q = {};
  q.range = TimeRange{from_ms(1500), from_ms(3000)};
  EXPECT_EQ(s->events(q)->size(), 1u);
}

TEST_F(PostgresStore, CommandAuditGapsLeasesAndCounterResets) {
  auto s = open();
  ASSERT_TRUE(s);
  CommandRecord c;
  c.requested_at = from_ms(1000);
  c.requested_by = "api:127.0.0.1";
  c.device = "bat";
  c.type = CommandType::MinSoc;
  c.value = 45;
  c.duration_s = 600;
  c.status = "pending";
  c.before = 10;
  auto id = s->begin_command(c);
  ASSERT_TRUE(id);
  c.id = *id;
  c.status = "verified";
  c.after = 45;
  c.finished_at = from_ms(2000);
  ASSERT_TRUE(s->finish_command(c));
  c.id = 999;
  auto missing = s->finish_command(c);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "command 999 not in the audit");
  auto pending = c;
  pending.status = "pending";
  ASSERT_TRUE(s->begin_command(pending));
  EXPECT_EQ(*s->close_interrupted_commands(from_ms(5000), "cut off", {}), 1);
  auto audit = s->commands({});
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].status, "interrupted");
  EXPECT_EQ((*audit)[1].status, "verified");
  EXPECT_EQ(*(*audit)[1].after, 45);
  EXPECT_EQ(*(*audit)[1].duration_s, 600);
  EXPECT_EQ((*audit)[1].type, CommandType::MinSoc);

  Gap g;
  g.device = "bat";
  g.from = from_ms(1000);
  g.to = from_ms(5000);
  g.reason = "no answer";
  g.done_until = g.from;
  g.detected_at = g.updated_at = from_ms(6000);
  auto gid = s->add_gap(g);
  ASSERT_TRUE(gid);
  g.to = from_ms(9000);  // the same gap found again, longer: widened, same id
  EXPECT_EQ(*s->add_gap(g), *gid);
  g.id = *gid;
  g.status = "filled";
  g.filled = 400;
  ASSERT_TRUE(s->update_gap(g));
  GapQuery gq;
  gq.statuses = {"filled"};
  auto gaps = s->gaps(gq);
  ASSERT_TRUE(gaps);
  ASSERT_EQ(gaps->size(), 1u);
  EXPECT_EQ(to_ms((*gaps)[0].to), 9000);
  EXPECT_EQ((*gaps)[0].filled, 400);
  EXPECT_FALSE((*gaps)[0].next_attempt);
  gq.statuses = {"open"};
  EXPECT_TRUE(s->gaps(gq)->empty());

  Lease l;
  l.command = *id;
  l.device = "bat";
  l.type = CommandType::MinSoc;
  l.value = 45;
  l.requested_by = "api";
  l.started_at = from_ms(1000);
  l.until = from_ms(601'000);
  l.restore = "10";
  auto lid = s->add_lease(l);
  ASSERT_TRUE(lid);
  EXPECT_EQ(s->leases(true, 10)->size(), 1u);
  l.id = *lid;
  l.state = "released";
  l.ended_at = from_ms(2000);
  ASSERT_TRUE(s->update_lease(l));
  EXPECT_TRUE(s->leases(true, 10)->empty());
  EXPECT_EQ((*s->leases(false, 10))[0].restore, "10");

  CounterReset r{"bat", "energy.pv_yield", from_ms(1000), 500, 500, 0};
  ASSERT_TRUE(s->add_counter_reset(r));
  ASSERT_TRUE(s->add_counter_reset(r));
  auto resets = s->counter_resets("bat", "energy.pv_yield");
  ASSERT_TRUE(resets);
  ASSERT_EQ(resets->size(), 1u);
  EXPECT_EQ((*resets)[0].offset, 500);
}

TEST_F(PostgresStore, WorkersStartingTogetherMigrateOnce) {
  std::vector<std::future<Result<std::unique_ptr<Store>>>> starts;
  for (int i = 0; i < 4; ++i)
    starts.push_back(std::async(std::launch::async, [&] { return open_postgres(url_); }));
  std::vector<std::unique_ptr<Store>> workers;
  for (auto& f : starts) {
    auto s = f.get();
    ASSERT_TRUE(s) << s.error().message;
    workers.push_back(std::move(*s));
  }
  EXPECT_EQ(value("SELECT count(*) FROM schema_migrations"),
            std::to_string(latest_postgres_schema_version()));
  // Two workers write the same samples (a replay): no duplicate.
  ASSERT_TRUE(workers[0]->write_samples({sample("battery.soc", kT0, 50)}));
  ASSERT_TRUE(workers[1]->write_samples({sample("battery.soc", kT0, 50)}));
  EXPECT_EQ(value("SELECT count(*) FROM samples"), "1");
  EXPECT_EQ(value("SELECT count(*) FROM series"), "1");
}

TEST_F(PostgresStore, ADatabaseFromTheFutureIsRefused) {
  { ASSERT_TRUE(open()); }
  ASSERT_EQ(server_->sql(db_, "INSERT INTO schema_migrations VALUES (999, 'x', 0)"), "");
  auto s = open_postgres(url_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("has schema version 999, newer than this sunbridge knows"),
            std::string::npos)
      << s.error().message;
}

TEST_F(PostgresStore, RetentionDropsWholeMonthsAndDeletesTheRestInSlices) {
  auto s = open();
  ASSERT_TRUE(s);
  // Four months of hourly samples, 2026-07-01 to 2026-10-31.
  const std::int64_t july = 1'782'864'000'000;
  std::vector<Sample> v;
  for (std::int64_t t = july; t < kT0 - 24 * kHour; t += kHour)
    v.push_back(sample("grid.power", t, 1));
  ASSERT_TRUE(s->write_samples(v));
  auto total = std::stoll(value("SELECT count(*) FROM samples"));
  ASSERT_EQ(total, static_cast<long long>(v.size()));
  // Keep 60 days back from 2026-11-02: July and August go whole, September partly.
  Retention r;
  r.samples = std::chrono::days(60);
  r.events.reset();
  std::int64_t deleted = 0;
  for (int i = 0; i < 100; ++i) {
    auto d = s->prune(r, from_ms(kT0), Millis(5000));
    ASSERT_TRUE(d) << d.error().message;
    deleted += *d;
    if (*d == 0) break;
  }
  auto cutoff = kT0 - 60 * 24 * kHour;
  EXPECT_EQ(value("SELECT count(*) FROM samples WHERE t < " + std::to_string(cutoff)), "0");
  EXPECT_EQ(deleted, total - std::stoll(value("SELECT count(*) FROM samples")));
  EXPECT_EQ(value("SELECT count(*) FROM pg_class WHERE relname IN ('samples_2026_07', "
                  "'samples_2026_08')"),
            "0");
  EXPECT_EQ(value("SELECT min(t) FROM samples"),
            std::to_string((cutoff + kHour - 1) / kHour * kHour));
  EXPECT_EQ(s->stats().pruned_rows, static_cast<std::uint64_t>(deleted));
  // Writing July again (a late backfill) makes its partition anew.
  ASSERT_TRUE(s->write_samples({sample("grid.power", july, 7)}));
  EXPECT_EQ(value("SELECT count(*) FROM samples_2026_07"), "1");
}

TEST_F(PostgresStore, AServerRestartIsWaitedOutAndNoSampleIsLost) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->write_samples({sample("battery.soc", kT0, 1)}));
  server_->stop();
  // While the server is down, pollers go on handing samples over; none is refused.
  for (int i = 1; i <= 20; ++i)
    ASSERT_TRUE(s->enqueue({sample("battery.soc", kT0 + i * 1000LL, i)}));
  auto deadline = steady_clock::now() + seconds(60);
  while (s->stats().busy_retries == 0 && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(20));
  EXPECT_GT(s->stats().busy_retries, 0u);
  EXPECT_NE(s->stats().last_error.find("postgresql"), std::string::npos) << s->stats().last_error;
  server_->start();
  ASSERT_EQ(server_->error(), "");
  ASSERT_TRUE(s->flush());
  EXPECT_EQ(value("SELECT count(*) FROM samples"), "21");
  EXPECT_EQ(s->stats().samples_dropped, 0u);
  EXPECT_EQ(s->stats().last_error, "");
  auto h = s->history({"sonnen1/123", "battery.soc", {from_ms(kT0), from_ms(kT0 + 60'000)}});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 21u);  // the reader connection came back too
}

TEST_F(PostgresStore, NoServerOrABadStringIsAClearErrorThatHidesThePassword) {
  auto port = test::free_port();
  auto s = open_postgres("postgresql://sunbridge:hunter2secret@127.0.0.1:" + std::to_string(port) +
                         "/x");
  ASSERT_FALSE(s);
  auto& m = s.error().message;
  EXPECT_NE(m.find("cannot connect to PostgreSQL postgresql://sunbridge:***@127.0.0.1:"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
  auto bad = open_postgres("postgresql://x/y?nonsense=1&password=hunter2secret");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("hunter2"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("nonsense"), std::string::npos) << bad.error().message;
}

TEST(PostgresConnectionString, PasswordsAreHiddenInEveryForm) {
  EXPECT_EQ(without_password("postgresql://ops:s3cret@db.example/fleet"),
            "postgresql://ops:***@db.example/fleet");
  EXPECT_EQ(without_password("postgresql://ops@db/fleet?sslmode=require&password=pw&x=1"),
            "postgresql://ops@db/fleet?sslmode=require&password=***&x=1");
  EXPECT_EQ(without_password("postgres://db/fleet"), "postgres://db/fleet");
  EXPECT_EQ(without_password("host=db password = 'a b\\' c' dbname=x"),
            "host=db password = *** dbname=x");
  EXPECT_EQ(without_password("host=db password=pw dbname=x"), "host=db password=*** dbname=x");
  EXPECT_TRUE(is_postgres("postgresql://db/x"));
  EXPECT_TRUE(is_postgres("postgres://db/x"));
  EXPECT_FALSE(is_postgres("/var/lib/sunbridge/sunbridge.db"));
}

// Two `sunbridge run` processes, each with its own battery, store into one PostgreSQL database;
// `sunbridge history` reads either's samples from it; the log never shows the password, and a
// database that is not there stops the service with the server's own reason.
TEST_F(PostgresStore, TwoGatewaysStoreIntoOneDatabaseAndHistoryReadsBoth) {
  auto dir = test::temp_dir("pg-run");
  auto url = "postgresql://sunbridge:not-shown-pw@127.0.0.1:" + std::to_string(server_->port()) +
             "/" + db_;
  struct Worker {
    std::unique_ptr<test::Process> sim, run;
    std::uint16_t api = 0;
    std::filesystem::path cfg;
  };
  auto start = [&](const std::string& name, const std::string& database) {
    Worker w;
    w.sim = std::make_unique<test::Process>(std::vector<std::string>{
        kBin, "simulate", "sonnen", "--listen", "127.0.0.1:0", "--token", "tok-" + name});
    auto first = w.sim->line();
    auto at = first ? first->rfind(':') : std::string::npos;
    EXPECT_NE(at, std::string::npos) << (first ? *first : "no line");
    w.api = test::free_port();
    w.cfg = dir / (name + ".yaml");
    std::ofstream(w.cfg) << "gateway:\n  database: " << database
                         << "\n  listen: 127.0.0.1:" << w.api << "\nsites:\n  - id: " << name
                         << "\n    timezone: Europe/Berlin\nconnections:\n  - name: " << name
                         << "\n    vendor: sonnen\n    site: " << name
                         << "\n    host: 127.0.0.1\n    port: " << first->substr(at + 1)
                         << "\n    poll_interval: 1s\n    options:\n      token: tok-" << name
                         << "\n";
    w.run = std::make_unique<test::Process>(
        std::vector<std::string>{kBin, "run", "-c", w.cfg.string()});
    return w;
  };
  auto a = start("alpha", url);
  auto b = start("beta", url);
  std::string seen;
  ASSERT_TRUE(a.run->stderr_until("started", seen, seconds(60))) << seen;
  EXPECT_NE(seen.find("database postgresql://sunbridge:***@127.0.0.1:"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("not-shown-pw"), std::string::npos) << seen;
  ASSERT_TRUE(b.run->stderr_until("started", seen, seconds(60))) << seen;
  // Both batteries' samples arrive (generous: a loaded machine).
  auto deadline = steady_clock::now() + seconds(60);
  auto devices = [&] {
    return value(
        "SELECT count(DISTINCT device_id) FROM series s JOIN samples x ON "
        "x.series_id = s.id");
  };
  while (devices() != "2" && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(200));
  ASSERT_EQ(devices(), "2");
  a.run->signal(SIGINT);
  EXPECT_EQ(a.run->wait(seconds(60)), 0);
  for (const auto& device : {"alpha:battery", "beta:battery"}) {
    test::Process h(
        {kBin, "history", device, "--metric", "battery.soc", "--csv", "-c", b.cfg.string()});
    ASSERT_EQ(h.wait(seconds(60)), 0) << h.rest_of_stderr();
    auto out = h.rest_of_stdout();
    EXPECT_GE(std::count(out.begin(), out.end(), '\n'), 2) << device << ": " << out;
  }
  b.run->signal(SIGINT);
  EXPECT_EQ(b.run->wait(seconds(60)), 0);

  auto bad = start("gamma", server_->url("nosuch"));
  EXPECT_EQ(bad.run->wait(seconds(60)), 1);
  auto err = bad.run->rest_of_stderr();
  EXPECT_NE(err.find("cannot connect to PostgreSQL postgresql://sunbridge@127.0.0.1:"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("database \"nosuch\" does not exist"), std::string::npos) << err;
  std::filesystem::remove_all(dir);
}

// A home's SQLite file moves into PostgreSQL with `sunbridge migrate`: every table's rows, the
// samples at full precision and quality, gaps with their parents, the audit with its leases.
// A run cut off midway goes on where it stopped; a second run adds nothing; a file a gateway
// holds is refused.
TEST_F(PostgresStore, MigrateMovesAWholeHistoryResumablyAndComparesTheCounts) {
  auto dir = test::temp_dir("pg-migrate");
  auto file = (dir / "home.db").string();
  const int n = 120'000;  // three batches of one series
  {
    auto home = open_sqlite(file);
    ASSERT_TRUE(home);
    auto& h = **home;
    ASSERT_TRUE(h.upsert_site({"home", "Home", 52.5, 13.4, "Europe/Berlin"}));
    ASSERT_TRUE(h.upsert_device(
        {"bat", "home", "bat", "sonnen", "battery", "sonnen", "eco 8", "1", "1.0"}, from_ms(kT0)));
    std::vector<Sample> v;
    for (int i = 0; i < n; ++i)
      v.push_back({"bat", "battery.soc", from_ms(kT0 + i * 10'000LL), 50 + i % 50 + 0.123456789,
                   i % 7 == 0 ? Quality::Backfilled : Quality::Measured});
    for (int i = 0; i < 100; ++i)
      v.push_back({"bat", "energy.pv_yield", from_ms(kT0 + i * 600'000LL), 1000.0 + i});
    ASSERT_TRUE(h.write_samples(v));
    ASSERT_TRUE(h.add_events({{"bat", from_ms(kT0), Severity::Warning, "a", "one"},
                              {"bat", from_ms(kT0 + 1), Severity::Error, "b", "two"}}));
    Gap g;
    g.device = "bat";
    g.from = from_ms(kT0);
    g.to = from_ms(kT0 + kHour);
    g.reason = "no answer";
    g.status = "partial";
    g.done_until = g.to;
    g.detected_at = g.updated_at = from_ms(kT0 + kHour);
    auto parent = h.add_gap(g);
    ASSERT_TRUE(parent);
    g.metric = "battery.soc";
    g.parent = *parent;
    g.status = "unfillable";
    ASSERT_TRUE(h.add_gap(g));
    CommandRecord c;
    c.requested_at = from_ms(kT0);
    c.requested_by = "api";
    c.device = "bat";
    c.type = CommandType::MinSoc;
    c.value = 40;
    c.status = "pending";
    auto id = h.begin_command(c);
    ASSERT_TRUE(id);
    c.id = *id;
    c.status = "verified";
    c.finished_at = from_ms(kT0 + 1000);
    ASSERT_TRUE(h.finish_command(c));
    Lease l;
    l.command = *id;
    l.device = "bat";
    l.type = CommandType::MinSoc;
    l.value = 40;
    l.requested_by = "api";
    l.started_at = from_ms(kT0);
    l.until = from_ms(kT0 + kHour);
    l.state = "released";
    ASSERT_TRUE(h.add_lease(l));
    ASSERT_TRUE(h.add_counter_reset({"bat", "energy.pv_yield", from_ms(kT0), 5, 5, 0}));
  }
  // An earlier run that stopped after 10,000 samples of the first series.
  {
    auto target = open();
    ASSERT_TRUE(target);
    std::vector<Sample> part;
    for (int i = 0; i < 10'000; ++i)
      part.push_back({"bat", "battery.soc", from_ms(kT0 + i * 10'000LL), 50 + i % 50 + 0.123456789,
                      i % 7 == 0 ? Quality::Backfilled : Quality::Measured});
    ASSERT_TRUE(target->write_samples(part));
  }
  test::Process m({kBin, "migrate", "--from", "sqlite:" + file, "--to", url_});
  ASSERT_EQ(m.wait(seconds(300)), 0) << m.rest_of_stderr();
  auto out = m.rest_of_stdout();
  EXPECT_NE(out.find("110,101 samples copied, 9,999 already there"), std::string::npos) << out;
  EXPECT_NE(out.find("  samples: 120,100 -> 120,100"), std::string::npos) << out;
  EXPECT_NE(out.find("  commands: 1 -> 1"), std::string::npos) << out;
  EXPECT_NE(out.find("counts agree"), std::string::npos) << out;
  EXPECT_NE(m.rest_of_stderr().find("sunbridge: migrate: 100 % (120,100 of 120,100 samples"),
            std::string::npos);
  EXPECT_EQ(value("SELECT count(*) FROM samples WHERE quality = 1"), std::to_string(n / 7 + 1));
  EXPECT_EQ(value("SELECT value FROM samples WHERE t = " + std::to_string(kT0 + 10'000)),
            "51.123456789");
  EXPECT_EQ(value("SELECT count(*) FROM gaps g JOIN gaps p ON g.parent_id = p.id WHERE "
                  "g.status = 'unfillable' AND p.status = 'partial'"),
            "1");
  EXPECT_EQ(value("SELECT count(*) FROM leases l JOIN commands c ON l.command_id = c.id WHERE "
                  "c.status = 'verified'"),
            "1");
  EXPECT_EQ(value("SELECT first_seen || '/' || last_seen FROM devices"),
            std::to_string(kT0) + "/" + std::to_string(kT0 + (n - 1) * 10'000LL));

  // Again: nothing new, no duplicate, the audit left alone.
  test::Process again({kBin, "migrate", "--from", file, "--to", url_});
  ASSERT_EQ(again.wait(seconds(300)), 0) << again.rest_of_stderr();
  auto out2 = again.rest_of_stdout();
  EXPECT_NE(out2.find("already there; the command audit and leases were not copied"),
            std::string::npos)
      << out2;
  EXPECT_EQ(value("SELECT count(*) FROM samples"), std::to_string(n + 100));
  EXPECT_EQ(value("SELECT count(*) FROM commands"), "1");

  // A file a gateway holds is refused, naming the holder.
  auto lock = OwnerLock::take(file, "run");
  ASSERT_TRUE(lock);
  test::Process held({kBin, "migrate", "--from", file, "--to", url_});
  EXPECT_EQ(held.wait(seconds(60)), 1);
  EXPECT_NE(held.rest_of_stderr().find("in use by sunbridge run"), std::string::npos);
  std::filesystem::remove_all(dir);
}
