// What a PV array would give under a clear sky: the yardstick the engine holds each day's PV to.
#include "core/solar.hpp"

#include <gtest/gtest.h>

#include "core/test_time.hpp"

using namespace sb;
using sb::test::at;
using namespace std::chrono;

TEST(ClearSky, TenKilowattsFacingSouthInBerlin) {
  std::vector<PvArray> south{{10'000, 180, 30}};
  // Solar noon in Berlin is about 11:07 UTC: near midsummer the array gives most of its peak,
  // at midnight nothing.
  double noon = clear_sky_pv_w(south, 52.52, 13.40, at("2026-06-21T11:07:00Z"));
  EXPECT_GT(noon, 7'000);
  EXPECT_LT(noon, 9'000);
  EXPECT_EQ(clear_sky_pv_w(south, 52.52, 13.40, at("2026-06-21T23:00:00Z")), 0);
  // A clear midsummer day gives several times a clear midwinter one.
  double june =
      clear_sky_pv_wh(south, 52.52, 13.40, at("2026-06-20T22:00:00Z"), at("2026-06-21T22:00:00Z"));
  double december =
      clear_sky_pv_wh(south, 52.52, 13.40, at("2026-12-20T23:00:00Z"), at("2026-12-21T23:00:00Z"));
  EXPECT_GT(june, 50'000);
  EXPECT_LT(june, 85'000);
  EXPECT_GT(december, 5'000);
  EXPECT_LT(december, 25'000);
  EXPECT_GT(june, 3 * december);
  // Two arrays give their sum; an array facing east gives more in the morning than at dusk.
  std::vector<PvArray> east{{5'000, 90, 30}};
  std::vector<PvArray> both{{10'000, 180, 30}, {5'000, 90, 30}};
  auto t = at("2026-06-21T07:00:00Z");
  EXPECT_DOUBLE_EQ(clear_sky_pv_w(both, 52.52, 13.40, t),
                   clear_sky_pv_w(south, 52.52, 13.40, t) + clear_sky_pv_w(east, 52.52, 13.40, t));
  EXPECT_GT(clear_sky_pv_w(east, 52.52, 13.40, at("2026-06-21T06:00:00Z")),
            2 * clear_sky_pv_w(east, 52.52, 13.40, at("2026-06-21T16:00:00Z")));
  // A year in coarser steps stays within 1 % of its days in 5-minute ones.
  double year =
      clear_sky_pv_wh(south, 52.52, 13.40, at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"));
  double days = 0;
  for (auto d = at("2026-01-01T00:00:00Z"); d < at("2027-01-01T00:00:00Z"); d += hours(24))
    days += clear_sky_pv_wh(south, 52.52, 13.40, d, d + hours(24));
  EXPECT_NEAR(year, days, days * 0.01);
  // No arrays, nothing expected; an empty range, nothing.
  EXPECT_EQ(
      clear_sky_pv_wh({}, 52.52, 13.40, at("2026-06-21T00:00:00Z"), at("2026-06-22T00:00:00Z")), 0);
  EXPECT_EQ(clear_sky_pv_wh(south, 52.52, 13.40, t, t), 0);
}
