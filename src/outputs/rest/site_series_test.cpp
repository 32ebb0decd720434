// A site's power curve and its CSV export: buckets on the site's own minutes, hours and days,
// sums over the site's devices only, full precision in the export.
#include "outputs/rest/site_series.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/test_time.hpp"

using namespace sb;
using sb::test::at;
using namespace std::chrono;

namespace {

std::string iso(Result<TimePoint> t) {
  return t ? format_iso8601(*t) : "error: " + t.error().message;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto end = text.find("\r\n"); end != std::string::npos; end = text.find("\r\n", start)) {
    out.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

}  // namespace

TEST(BucketStart, StepsThatDivideADayStartOnTheSitesOwnBoundaries) {
  // Berlin in winter is UTC+1: its hours are UTC's, its days start at 23:00 UTC.
  EXPECT_EQ(iso(rest::bucket_start("Europe/Berlin", at("2026-12-07T10:47:31Z"), minutes(15))),
            "2026-12-07T10:45:00Z");
  EXPECT_EQ(iso(rest::bucket_start("Europe/Berlin", at("2026-12-07T10:47:31Z"), hours(1))),
            "2026-12-07T10:00:00Z");
  EXPECT_EQ(iso(rest::bucket_start("Europe/Berlin", at("2026-12-07T10:47:31Z"), hours(24))),
            "2026-12-06T23:00:00Z");
  EXPECT_EQ(iso(rest::bucket_start("Europe/Berlin", at("2026-12-06T23:30:00Z"), hours(24))),
            "2026-12-06T23:00:00Z");
  // India is UTC+5:30: its whole hours are at half past in UTC.
  EXPECT_EQ(iso(rest::bucket_start("Asia/Kolkata", at("2026-12-07T10:47:31Z"), hours(1))),
            "2026-12-07T10:30:00Z");
  // The day Berlin moves to summer time (29 March 2026, 23 hours): hours stay whole after it.
  EXPECT_EQ(iso(rest::bucket_start("Europe/Berlin", at("2026-03-29T05:20:00Z"), hours(1))),
            "2026-03-29T05:00:00Z");
  EXPECT_EQ(iso(rest::bucket_start("Europe/Berlin", at("2026-03-29T05:20:00Z"), hours(24))),
            "2026-03-28T23:00:00Z");
  // A step that does not divide a day: multiples of it since the epoch.
  EXPECT_EQ(iso(rest::bucket_start("Europe/Berlin", at("2026-12-07T10:47:31Z"), seconds(7))),
            format_iso8601(from_ms(to_ms(at("2026-12-07T10:47:31Z")) / 7000 * 7000)));
  auto bad = rest::bucket_start("Mars/Olympus", at("2026-12-07T10:47:31Z"), hours(1));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "unknown time zone 'Mars/Olympus'");
}

TEST(RoundStep, TheSmallestRoundStepWithinTheAskedPoints) {
  EXPECT_EQ(rest::round_step(hours(24), 500), minutes(5));
  EXPECT_EQ(rest::round_step(hours(24 * 7), 500), minutes(30));
  EXPECT_EQ(rest::round_step(hours(24 * 30), 500), hours(2));
  EXPECT_EQ(rest::round_step(hours(1), 500), minutes(1));
  EXPECT_EQ(rest::round_step(hours(24 * 3650), 500), hours(24 * 8));
}

TEST(SitePower, FlowsSummedOverTheSitesDevicesOnWholeBuckets) {
  auto store = std::move(*store::open_sqlite(":memory:"));
  Site site{"home", "Home", 52.5, 13.4, "Europe/Berlin"};
  std::vector<DeviceInfo> devices{{"b:1", "home"}, {"a:1", "home"}, {"c:1", "elsewhere"}};
  std::vector<Sample> samples;
  // 10:00 to 10:30 UTC, a sample a minute: a:1 makes 1000 W of PV, b:1 500 W plus a minute's
  // number; the home uses 300 W (a:1 only); c:1 (another site) 9999 W.
  for (int m = 0; m < 30; ++m) {
    auto t = at("2026-12-07T10:00:00Z") + minutes(m);
    samples.push_back({"a:1", "pv.power", t, 1000});
    samples.push_back({"b:1", "pv.power", t, 500.0 + m});
    samples.push_back({"a:1", "load.power", t, 300});
    samples.push_back({"c:1", "pv.power", t, 9999});
  }
  ASSERT_TRUE(store->write_samples(samples));
  // Asked from 10:07: the buckets start at 10:00, on the quarter hour.
  auto r = rest::site_power(*store, site, devices, at("2026-12-07T10:07:00Z"),
                            at("2026-12-07T10:40:00Z"), minutes(15));
  ASSERT_TRUE(r) << r.error().message;
  auto& o = *r;
  EXPECT_EQ(o["from"], "2026-12-07T10:00:00Z");
  EXPECT_EQ(o["step_s"], 900);
  EXPECT_EQ(boost::json::serialize(o["columns"]),
            R"(["time_ms","pv.power","load.power","grid.power","battery.power"])");
  auto points = o["points"].as_array();
  ASSERT_EQ(points.size(), 3u);
  auto row = [&](std::size_t i) { return points[i].as_array(); };
  EXPECT_EQ(row(0)[0].as_int64(), to_ms(at("2026-12-07T10:00:00Z")));
  // 1000 + the mean of 500..514 (507)
  EXPECT_DOUBLE_EQ(row(0)[1].to_number<double>(), 1507);
  EXPECT_DOUBLE_EQ(row(0)[2].to_number<double>(), 300);
  EXPECT_TRUE(row(0)[3].is_null());                       // no device has grid.power
  EXPECT_DOUBLE_EQ(row(1)[1].to_number<double>(), 1522);  // 1000 + mean of 515..529
  EXPECT_TRUE(row(2)[1].is_null());                       // 10:30: nothing stored yet
  EXPECT_EQ(boost::json::serialize(o["peak"]),
            R"({"pv.power":{"w":1.522E3,"at":"2026-12-07T10:15:00Z"}})");
  // An EV charger's column where a device of the site has one.
  ASSERT_TRUE(store->write_samples({{"a:1", "ev.power", at("2026-12-07T10:01:00Z"), 7400}}));
  auto ev = rest::site_power(*store, site, devices, at("2026-12-07T10:00:00Z"),
                             at("2026-12-07T10:15:00Z"), minutes(15));
  ASSERT_TRUE(ev);
  EXPECT_EQ((*ev)["columns"].as_array().back(), "ev.power");
  EXPECT_DOUBLE_EQ((*ev)["points"].as_array()[0].as_array()[5].to_number<double>(), 7400);
  // Too many buckets: said, not served.
  auto many = rest::site_power(*store, site, devices, at("2026-01-01T00:00:00Z"),
                               at("2026-12-07T10:15:00Z"), minutes(1));
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().kind, ErrorKind::InvalidArgument);
}

TEST(SiteCsv, EveryMetricOfTheSiteAColumnAtFullPrecision) {
  auto store = std::move(*store::open_sqlite(":memory:"));
  Site site{"home", "Home", 52.5, 13.4, "Europe/Berlin"};
  std::vector<DeviceInfo> devices{{"inv,1", "home"}, {"bat:1", "home"}, {"c:1", "elsewhere"}};
  ASSERT_TRUE(store->write_samples({
      {"bat:1", "battery.soc", at("2026-12-07T10:00:00Z"), 55.5},
      {"bat:1", "battery.power", at("2026-12-07T10:00:00Z"), -1201.5661288820804},
      {"inv,1", "pv.power", at("2026-12-07T10:00:00.250Z"), 0.1 + 0.2},
      {"bat:1", "battery.soc", at("2026-12-07T10:01:00Z"), 56},
      {"c:1", "pv.power", at("2026-12-07T10:00:00Z"), 9999},
  }));
  auto csv = rest::site_csv(*store, site, devices, at("2026-12-07T09:00:00Z"),
                            at("2026-12-07T11:00:00Z"), std::nullopt);
  ASSERT_TRUE(csv) << csv.error().message;
  auto rows = lines(*csv);
  ASSERT_EQ(rows.size(), 4u) << *csv;
  // Devices in id order, metrics in name order; a header with a comma is quoted.
  EXPECT_EQ(rows[0],
            "time_utc,time_local,bat:1 battery.power (W),bat:1 battery.soc (%),\"inv,1 pv.power "
            "(W)\"");
  // Raw samples at their own times; the local time is Berlin's; an empty cell where a column
  // has nothing at that time; numbers as stored, to the last digit.
  EXPECT_EQ(rows[1], "2026-12-07T10:00:00Z,2026-12-07 11:00:00,-1201.5661288820804,55.5,");
  EXPECT_EQ(rows[2], "2026-12-07T10:00:00.250Z,2026-12-07 11:00:00.250,,,0.30000000000000004");
  EXPECT_EQ(rows[3], "2026-12-07T10:01:00Z,2026-12-07 11:01:00,,56,");
  // With a step: bucket means on the site's hours.
  auto hourly = rest::site_csv(*store, site, devices, at("2026-12-07T10:20:00Z"),
                               at("2026-12-07T11:00:00Z"), hours(1));
  ASSERT_TRUE(hourly) << hourly.error().message;
  auto h = lines(*hourly);
  ASSERT_EQ(h.size(), 2u) << *hourly;
  EXPECT_EQ(h[1],
            "2026-12-07T10:00:00Z,2026-12-07 11:00:00,-1201.5661288820804,55.75,"
            "0.30000000000000004");
  // Raw samples for more than a week: refused with what to do instead.
  auto long_raw = rest::site_csv(*store, site, devices, at("2026-11-01T00:00:00Z"),
                                 at("2026-12-07T11:00:00Z"), std::nullopt);
  ASSERT_FALSE(long_raw);
  EXPECT_NE(long_raw.error().message.find("give a step"), std::string::npos);
}

TEST(BackfillProgress, ShareDonePaceAndWhenItWillBeDone) {
  Gap g;
  g.from = at("2026-12-01T00:00:00Z");
  g.to = at("2026-12-05T00:00:00Z");  // four days of history missing
  g.detected_at = at("2026-12-07T10:00:00Z");
  g.done_until = at("2026-12-02T00:00:00Z");  // one day filled ...
  g.updated_at = at("2026-12-07T11:00:00Z");  // ... in an hour
  auto p = rest::backfill_progress(g);
  EXPECT_DOUBLE_EQ(p.done, 0.25);
  ASSERT_TRUE(p.pace);
  EXPECT_DOUBLE_EQ(*p.pace, 24);
  ASSERT_TRUE(p.estimated_end);
  EXPECT_EQ(format_iso8601(*p.estimated_end), "2026-12-07T14:00:00Z");  // three days to go
  g.status = "unfillable";                                              // ended: no end to expect
  EXPECT_FALSE(rest::backfill_progress(g).estimated_end);
  g.status = "open";
  g.done_until = g.from;  // nothing yet: no pace to go by
  auto none = rest::backfill_progress(g);
  EXPECT_DOUBLE_EQ(none.done, 0);
  EXPECT_FALSE(none.pace);
  g.status = "filled";
  EXPECT_DOUBLE_EQ(rest::backfill_progress(g).done, 1);
}
