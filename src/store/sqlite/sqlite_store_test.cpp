#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "store/store.hpp"

using namespace sb;
using namespace sb::store;

namespace {

std::unique_ptr<Store> open_memory() {
  auto s = open_sqlite(":memory:");
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return std::move(*s);
}

Sample sample(std::string metric, std::int64_t ms, double v, Quality q = Quality::Measured) {
  return {"sonnen1/123", std::move(metric), from_ms(ms), v, q};
}

// A database file of the test's own: the process id in its name, so that two runs of the
// suite at once (make test beside make test-asan) do not share it, and removed with its -wal
// and -shm when the test ends. Declared before the stores that use it.
struct TempDb {
  std::filesystem::path path;
  explicit TempDb(const char* name)
      : path(std::filesystem::temp_directory_path() /
             ("sunbridge-" + std::to_string(::getpid()) + "-" + name)) {
    remove();
  }
  ~TempDb() { remove(); }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
  void remove() const {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      std::filesystem::remove(path.string() + suffix, ec);
    }
  }
};

}  // namespace

TEST(SqliteStore, SitesAndDevicesRoundTripAndUpdate) {
  auto s = open_memory();
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
  auto devices = s->devices();
  ASSERT_TRUE(devices);
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].firmware, "1.1");
  EXPECT_EQ((*devices)[0].vendor, "sonnen");
}

TEST(SqliteStore, UpsertIsIdempotentAndQualityNeverDegrades) {
  auto s = open_memory();
  ASSERT_TRUE(s->write_samples({sample("battery.soc", 1000, 50), sample("battery.soc", 2000, 51)}));
  // Replay: same keys, no duplicates.
  ASSERT_TRUE(s->write_samples({sample("battery.soc", 1000, 50), sample("battery.soc", 2000, 51)}));
  // A backfilled value does not replace a measured one; a measured one replaces a backfilled one.
  ASSERT_TRUE(s->write_samples({sample("battery.soc", 2000, 99, Quality::Backfilled),
                                sample("battery.soc", 3000, 40, Quality::Backfilled)}));
  ASSERT_TRUE(s->write_samples({sample("battery.soc", 3000, 52, Quality::Measured)}));
  auto h = s->history({"sonnen1/123", "battery.soc", {from_ms(0), from_ms(10'000)}});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[1].value, 51);
  EXPECT_EQ((*h)[1].quality, Quality::Measured);
  EXPECT_EQ((*h)[2].value, 52);
  EXPECT_EQ((*h)[2].quality, Quality::Measured);
}

TEST(SqliteStore, QueuedSamplesAreWrittenByTheWriterThread) {
  auto s = open_memory();
  std::vector<Sample> batch;
  for (int i = 0; i < 10'000; ++i) batch.push_back(sample("battery.power", i * 1000, i));
  ASSERT_TRUE(s->enqueue(batch));
  ASSERT_TRUE(s->enqueue({sample("battery.soc", 0, 12)}));
  ASSERT_TRUE(s->flush());
  EXPECT_EQ(s->stats().samples_written, 10'001u);
  EXPECT_EQ(s->stats().queue_depth, 0u);
  auto h = s->history({"sonnen1/123", "battery.power", {from_ms(0), from_ms(10'000'000)}});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 10'000u);
  auto m = s->metrics("sonnen1/123");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (std::vector<std::string>{"battery.power", "battery.soc"}));
}

TEST(SqliteStore, FullQueueDropsAndCountsWithoutBlocking) {
  auto s = open_sqlite(":memory:", SqliteOptions{.queue_capacity = 10});
  ASSERT_TRUE(s);
  std::vector<Sample> big(11, sample("battery.power", 0, 1));
  auto r = (*s)->enqueue(big);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("store queue full"), std::string::npos);
  EXPECT_EQ((*s)->stats().samples_dropped, 11u);
}

TEST(SqliteStore, BucketsAverageGaugesAndTakeTheLastCounterValue) {
  auto s = open_memory();
  std::vector<Sample> v;
  for (int i = 0; i < 120; ++i) {
    v.push_back(sample("battery.power", i * 1000, i < 60 ? 100 : 300));
    v.push_back(sample("energy.pv_yield", i * 1000, 1000 + i));
  }
  ASSERT_TRUE(s->write_samples(v));
  HistoryQuery q{"sonnen1/123", "battery.power", {from_ms(0), from_ms(120'000)}, Millis(60'000)};
  auto h = s->history(q);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ(to_ms((*h)[1].time), 60'000);
  EXPECT_DOUBLE_EQ((*h)[0].value, 100);
  EXPECT_DOUBLE_EQ((*h)[1].value, 300);
  EXPECT_EQ((*h)[0].count, 60);
  q.metric = "energy.pv_yield";
  h = s->history(q);
  ASSERT_TRUE(h);
  EXPECT_DOUBLE_EQ((*h)[0].value, 1059);
  EXPECT_DOUBLE_EQ((*h)[1].value, 1119);
}

TEST(SqliteStore, EventsAreIdempotentAndNewestFirst) {
  auto s = open_memory();
  Event a{"d", from_ms(1000), Severity::Warning, "poll.failed", "timeout"};
  Event b{"d", from_ms(2000), Severity::Info, "poll.recovered", "back"};
  ASSERT_TRUE(s->add_events({a, b}));
  ASSERT_TRUE(s->add_events({a}));
  auto e = s->events({});
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].code, "poll.recovered");
  EXPECT_EQ((*e)[1].severity, Severity::Warning);
  auto ranged = s->events({std::string("d"), TimeRange{from_ms(0), from_ms(1500)}, 10});
  ASSERT_TRUE(ranged);
  ASSERT_EQ(ranged->size(), 1u);
}

TEST(SqliteStore, CommandAuditRecordsBeforeAfterAndOutcome) {
  auto s = open_memory();
  CommandRecord c;
  c.requested_at = from_ms(5000);
  c.requested_by = "api";
  c.device = "sonnen1/123";
  c.type = CommandType::BatteryPower;
  c.value = -2000;
  c.status = "pending";
  c.before = 150;
  auto id = s->begin_command(c);
  ASSERT_TRUE(id);
  c.id = *id;
  c.status = "verified";
  c.after = -1998;
  c.finished_at = from_ms(6000);
  c.detail = "read back -1998 W";
  ASSERT_TRUE(s->finish_command(c));
  auto all = s->commands({.limit = 10});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].status, "verified");
  EXPECT_EQ((*all)[0].before, 150);
  EXPECT_EQ((*all)[0].after, -1998);
  EXPECT_EQ((*all)[0].requested_by, "api");
  EXPECT_EQ((*all)[0].type, CommandType::BatteryPower);
  c.id = 999;
  EXPECT_EQ(s->finish_command(c).error().kind, ErrorKind::NotFound);
}

TEST(SqliteStore, FileSurvivesReopenAndMigratesOnce) {
  TempDb file("store-test.db");
  const auto& path = file.path;
  {
    auto s = open_sqlite(path.string());
    ASSERT_TRUE(s);
    ASSERT_TRUE((*s)->enqueue({sample("battery.soc", 1000, 77)}));
    (*s)->close();  // flushes
  }
  auto s = open_sqlite(path.string());
  ASSERT_TRUE(s) << s.error().message;
  auto h = (*s)->history({"sonnen1/123", "battery.soc", {from_ms(0), from_ms(2000)}});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].value, 77);
}

TEST(SqliteStore, RefusesADatabaseFromTheFuture) {
  TempDb file("future.db");
  const auto& path = file.path;
  { ASSERT_TRUE(open_sqlite(path.string())); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 'x', 0)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = open_sqlite(path.string());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("schema version 999, newer than this sunbridge knows"),
            std::string::npos);
}

TEST(SqliteStore, UnwritablePathIsAClearError) {
  auto s = open_sqlite("/nonexistent-dir/x/sunbridge.db");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("cannot open database '/nonexistent-dir/x/sunbridge.db'"),
            std::string::npos);
}

// A history read must not freeze what later reads see: the dashboard reads history, then the
// audit of a command it just sent (a stale snapshot once hid every command after a chart).
TEST(SqliteStore, ReadsAfterAHistoryQuerySeeWhatWasWrittenSince) {
  TempDb file("store-snapshot.db");
  const auto& path = file.path;
  auto opened = open_sqlite(path.string());
  ASSERT_TRUE(opened) << opened.error().message;
  auto& s = **opened;
  ASSERT_TRUE(s.write_samples({sample("battery.soc", 1000, 50), sample("battery.soc", 2000, 51)}));
  auto h = s.history({"sonnen1/123", "battery.soc", {from_ms(0), from_ms(5000)}, std::nullopt, 10});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  CommandRecord c;
  c.requested_at = from_ms(3000);
  c.requested_by = "api";
  c.device = "sonnen1/123";
  c.status = "verified";
  ASSERT_TRUE(s.begin_command(c));
  auto all = s.commands({.limit = 10});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
  ASSERT_TRUE(s.add_events({{"sonnen1/123", from_ms(3000), Severity::Info, "x", "y"}}));
  auto ev = s.events({});
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->size(), 1u);
  ASSERT_TRUE(s.write_samples({sample("battery.soc", 3000, 52)}));
  auto again =
      s.history({"sonnen1/123", "battery.soc", {from_ms(0), from_ms(5000)}, std::nullopt, 10});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 3u);
  s.close();
  std::filesystem::remove(path);
}

// Hour-aligned buckets of whole hours come from the rollups; they agree with the samples, and a
// replay or a better-quality value rebuilds them rather than adding to them.
TEST(SqliteStore, HourlyRollupsAgreeWithTheSamplesThroughReplaysAndUpgrades) {
  auto s = open_memory();
  const std::int64_t h0 = 1'782'000'000'000 / 3'600'000 * 3'600'000;
  std::vector<Sample> v;
  for (int k = 0; k < 18; ++k)  // three hours, every 10 minutes
    v.push_back(sample("battery.power", h0 + k * 600'000, double(k * 10),
                       k == 4 ? Quality::Estimated : Quality::Measured));
  ASSERT_TRUE(s->write_samples(v));
  ASSERT_TRUE(s->write_samples(v));  // a replay
  auto q = HistoryQuery{"sonnen1/123",
                        "battery.power",
                        {from_ms(h0), from_ms(h0 + 3 * 3'600'000)},
                        Millis(3'600'000),
                        100};
  auto h = s->history(q);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].count, 6);
  EXPECT_DOUBLE_EQ((*h)[0].value, 25);  // mean of 0..50
  EXPECT_DOUBLE_EQ((*h)[0].min, 0);
  EXPECT_DOUBLE_EQ((*h)[0].max, 50);
  EXPECT_EQ((*h)[0].quality, Quality::Estimated);
  EXPECT_EQ((*h)[1].quality, Quality::Measured);
  EXPECT_DOUBLE_EQ((*h)[2].value, 145);
  // Two hours to a bucket.
  q.step = Millis(2 * 3'600'000);
  auto two = s->history(q);
  ASSERT_TRUE(two);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].count, 12);
  EXPECT_DOUBLE_EQ((*two)[0].value, 55);
  // A measured value replaces the estimated one: the hour is rebuilt.
  ASSERT_TRUE(s->write_samples({sample("battery.power", h0 + 4 * 600'000, 400)}));
  h = s->history({"sonnen1/123",
                  "battery.power",
                  {from_ms(h0), from_ms(h0 + 3'600'000)},
                  Millis(3'600'000),
                  100});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].count, 6);
  EXPECT_DOUBLE_EQ((*h)[0].max, 400);
  EXPECT_DOUBLE_EQ((*h)[0].value, (0 + 10 + 20 + 30 + 400 + 50) / 6.0);
  EXPECT_EQ((*h)[0].quality, Quality::Measured);
  // The same from raw samples when the range is not hour-aligned.
  auto raw = s->history({"sonnen1/123",
                         "battery.power",
                         {from_ms(h0 + 1), from_ms(h0 + 3'600'000 + 1)},
                         Millis(3'600'000),
                         100});
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->size(), 1u);     // buckets start at `from`: the hour less its first sample, plus
  EXPECT_EQ((*raw)[0].count, 6);  // the next hour's first
  // Counters take the hour's highest (latest) value.
  std::vector<Sample> c;
  for (int k = 0; k < 12; ++k) c.push_back(sample("energy.pv_yield", h0 + k * 600'000, 1000 + k));
  ASSERT_TRUE(s->write_samples(c));
  auto e = s->history({"sonnen1/123",
                       "energy.pv_yield",
                       {from_ms(h0), from_ms(h0 + 2 * 3'600'000)},
                       Millis(3'600'000),
                       100});
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 2u);
  EXPECT_DOUBLE_EQ((*e)[0].value, 1005);
  EXPECT_DOUBLE_EQ((*e)[1].value, 1011);
}

// Another process holding the database (a backup, `sqlite3` open on it) is waited for while the
// queue has room: a lock held through many write attempts loses nothing (three tries and the
// batch was dropped). What the queue cannot hold is dropped and reported per device.
TEST(SqliteStore, ALockedDatabaseIsWaitedForAndWhatOverflowsIsReported) {
  TempDb file("locked-test.db");
  const auto& path = file.path;
  SqliteOptions o;
  o.busy_timeout = std::chrono::milliseconds(50);
  o.queue_capacity = 4;
  auto opened = open_sqlite(path.string(), o);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& s = **opened;
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_TRUE(s.enqueue({sample("battery.soc", 1000, 50), sample("battery.soc", 2000, 51)}));
  // Five attempts met the lock: more than the three the batch once got.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (s.stats().busy_retries < 5 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(s.stats().busy_retries, 5u);
  EXPECT_NE(s.stats().last_error.find("locked"), std::string::npos) << s.stats().last_error;
  // The queue holds four: these do not fit behind the two in flight and two waiting.
  ASSERT_TRUE(s.enqueue({sample("battery.soc", 3000, 52), sample("battery.soc", 4000, 53)}));
  EXPECT_FALSE(s.enqueue({sample("battery.soc", 5000, 54), sample("battery.soc", 6000, 55)}));
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  ASSERT_TRUE(s.flush());
  auto h = s.history({"sonnen1/123", "battery.soc", {from_ms(0), from_ms(10'000)}});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 4u);  // all that the queue held
  EXPECT_EQ(s.stats().samples_dropped, 2u);
  EXPECT_TRUE(s.stats().last_error.empty());
  auto lost = s.take_dropped({"sonnen1/123"});
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].from, from_ms(5000));
  EXPECT_EQ(lost[0].to, from_ms(6000));
  EXPECT_EQ(lost[0].samples, 2u);
  EXPECT_NE(lost[0].reason.find("store queue full"), std::string::npos);
  EXPECT_TRUE(s.take_dropped({"sonnen1/123"}).empty());  // taken once
  s.close();
}

// Retention deletes what is older than it keeps, a slice at a time, and nothing newer.
TEST(SqliteStore, RetentionDeletesOldRowsInSlicesAndKeepsTheRest) {
  auto s = open_memory();
  const std::int64_t day = 86'400'000, now = 400 * day;
  std::vector<Sample> rows;
  for (std::int64_t t = 0; t < now; t += 3'600'000) {  // 400 days, hourly, two series
    rows.push_back(sample("battery.soc", t, 50));
    rows.push_back(sample("pv.power", t, 1000));
  }
  ASSERT_TRUE(s->write_samples(rows));
  ASSERT_TRUE(s->add_events({{"d", from_ms(10 * day), Severity::Info, "old", "x"},
                             {"d", from_ms(399 * day), Severity::Info, "new", "y"}}));
  Retention r;
  r.samples = std::chrono::days(365);
  r.events = std::chrono::days(30);
  std::int64_t total = 0;
  int calls = 0;
  for (;;) {
    auto n = s->prune(r, from_ms(now), Millis(0));  // the smallest slice: one statement
    ASSERT_TRUE(n) << n.error().message;
    ++calls;
    if (*n == 0) break;
    total += *n;
  }
  EXPECT_EQ(calls, 2 * 35 + 2);       // a day of a series a call, the events, nothing left
  EXPECT_EQ(total, 2 * 35 * 24 + 1);  // 35 days of two hourly series, one event
  auto left = s->history({"sonnen1/123", "battery.soc", {from_ms(0), from_ms(now)}});
  ASSERT_TRUE(left);
  ASSERT_FALSE(left->empty());
  EXPECT_EQ(left->front().time, from_ms(35 * day));
  EXPECT_EQ(s->events({})->size(), 1u);
  EXPECT_EQ(s->stats().pruned_rows, static_cast<std::uint64_t>(total));
}
