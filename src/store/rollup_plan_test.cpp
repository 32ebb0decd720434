#include "store/rollup_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

using namespace sb::store;
using namespace std::chrono;

namespace {
constexpr std::int64_t H = 3'600'000;
const RollupPlan::Time t0{};
}  // namespace

TEST(RollupPlan, ANewHourIsDueAtOnceThenTheCurrentHourOnceAMinute) {
  RollupPlan plan;
  plan.touched({{1, 10 * H}}, t0);
  EXPECT_EQ(plan.take_due(t0, false), (std::vector<SeriesHour>{{1, 10 * H}}));
  EXPECT_EQ(plan.waiting(), 0u);

  // Written again 10 s later: waits until a minute after its roll-up.
  plan.touched({{1, 10 * H}}, t0 + 10s);
  EXPECT_TRUE(plan.take_due(t0 + 10s, false).empty());
  EXPECT_TRUE(plan.take_due(t0 + 59s, false).empty());
  EXPECT_EQ(plan.waiting(), 1u);
  EXPECT_EQ(plan.take_due(t0 + 60s, false), (std::vector<SeriesHour>{{1, 10 * H}}));
}

TEST(RollupPlan, TheNextHourMakesTheWaitingOneDueAtOnce) {
  RollupPlan plan;
  plan.touched({{1, 10 * H}}, t0);
  (void)plan.take_due(t0, false);
  plan.touched({{1, 10 * H}}, t0 + 5s);  // waits for t0 + 60 s
  plan.touched({{1, 11 * H}}, t0 + 6s);  // the series moved on: hour 10 is over
  EXPECT_EQ(plan.take_due(t0 + 6s, false), (std::vector<SeriesHour>{{1, 10 * H}, {1, 11 * H}}));
  // A late sample of the hour that is over is rolled up at once, not a minute later.
  plan.touched({{1, 10 * H}}, t0 + 7s);
  EXPECT_EQ(plan.take_due(t0 + 7s, false), (std::vector<SeriesHour>{{1, 10 * H}}));
}

TEST(RollupPlan, OnlyDueHoursAreTakenAndAllTakesEveryOne) {
  RollupPlan plan;
  std::vector<SeriesHour> hours;
  for (std::int64_t s = 1; s <= 1000; ++s) hours.push_back({s, 10 * H});
  plan.touched(hours, t0);
  EXPECT_EQ(plan.take_due(t0, false).size(), 1000u);
  // Series 7 is written again; the other 999 are not: one hour waits, nothing else is due.
  plan.touched({{7, 10 * H}}, t0 + 1s);
  EXPECT_TRUE(plan.take_due(t0 + 2s, false).empty());
  EXPECT_EQ(plan.take_due(t0 + 2s, true), (std::vector<SeriesHour>{{7, 10 * H}}));
  EXPECT_EQ(plan.waiting(), 0u);
}

TEST(RollupPlan, HoursOfARolledBackTransactionAreDueAgain) {
  RollupPlan plan;
  plan.touched({{1, 10 * H}, {2, 10 * H}}, t0);
  auto taken = plan.take_due(t0, false);
  ASSERT_EQ(taken.size(), 2u);
  plan.retry(taken, t0 + 1s);
  EXPECT_EQ(plan.take_due(t0 + 1s, false), taken);
}

TEST(RollupPlan, HoursOfSortedRowsEachOnce) {
  struct Row {
    std::int64_t series, t;
  };
  std::vector<Row> rows{{1, 0}, {1, 10}, {1, H + 1}, {2, -1}, {2, 5}};
  EXPECT_EQ(hours_of(rows), (std::vector<SeriesHour>{{1, 0}, {1, H}, {2, -H}, {2, 0}}));
}

namespace {

// The plan as first written (two maps, a set by due time, a map of newest hours): what the
// compact one must answer, call for call.
struct ReferencePlan {
  std::map<SeriesHour, RollupPlan::Time> due_at;
  std::set<std::pair<RollupPlan::Time, SeriesHour>> queue;
  std::map<SeriesHour, RollupPlan::Time> rolled;
  std::map<std::int64_t, std::int64_t> newest;

  void schedule(const SeriesHour& k, RollupPlan::Time due) {
    auto [it, fresh] = due_at.try_emplace(k, due);
    if (!fresh) {
      if (it->second <= due) return;
      queue.erase({it->second, k});
      it->second = due;
    }
    queue.insert({due, k});
  }
  void touched(const std::vector<SeriesHour>& hours, RollupPlan::Time now) {
    for (const auto& k : hours) {
      auto [n, fresh] = newest.try_emplace(k.series, k.hour);
      if (!fresh && k.hour > n->second) {
        SeriesHour previous{k.series, n->second};
        rolled.erase(previous);
        if (due_at.contains(previous)) schedule(previous, now);
        n->second = k.hour;
      }
      auto due = now;
      if (k.hour == n->second)
        if (auto r = rolled.find(k); r != rolled.end())
          due = r->second + RollupPlan::kCurrentHourEvery;
      schedule(k, due);
    }
  }
  std::vector<SeriesHour> take_due(RollupPlan::Time now, bool all) {
    std::vector<SeriesHour> out;
    while (!queue.empty() && (all || queue.begin()->first <= now)) {
      auto k = queue.begin()->second;
      queue.erase(queue.begin());
      due_at.erase(k);
      if (k.hour < newest[k.series])
        rolled.erase(k);
      else
        rolled[k] = now;
      out.push_back(k);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  void retry(const std::vector<SeriesHour>& hours, RollupPlan::Time now) {
    for (const auto& k : hours) schedule(k, now);
  }
};

}  // namespace

// Random writes (mostly the current hour, some late and some backfilled hours), takes and
// rolled-back takes over 20 series: the plan answers as the reference does at every step.
TEST(RollupPlan, AnswersAsTheFirstPlanDidOverARandomRun) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    RollupPlan plan;
    ReferencePlan ref;
    auto now = t0;
    std::vector<std::int64_t> hour_of(20, 100);
    for (int step = 0; step < 3000; ++step) {
      now += milliseconds(std::uniform_int_distribution<int>(0, 20'000)(rng));
      const int what = std::uniform_int_distribution<int>(0, 99)(rng);
      if (what < 70) {
        std::vector<SeriesHour> hours;
        for (int n = std::uniform_int_distribution<int>(1, 4)(rng); n > 0; --n) {
          auto s = std::uniform_int_distribution<int>(0, 19)(rng);
          auto& h = hour_of[static_cast<std::size_t>(s)];
          const int kind = std::uniform_int_distribution<int>(0, 19)(rng);
          if (kind == 0) ++h;  // the series moves on
          auto hour = kind == 1 ? h - std::uniform_int_distribution<int>(1, 5)(rng) : h;
          hours.push_back({s, hour * H});
        }
        std::sort(hours.begin(), hours.end());
        hours.erase(std::unique(hours.begin(), hours.end()), hours.end());
        plan.touched(hours, now);
        ref.touched(hours, now);
      } else {
        const bool all = what >= 95;
        auto got = plan.take_due(now, all);
        auto want = ref.take_due(now, all);
        ASSERT_EQ(got, want) << "seed " << seed << " step " << step;
        if (!got.empty() && what % 7 == 0) {  // the transaction was rolled back
          plan.retry(got, now);
          ref.retry(want, now);
        }
      }
      ASSERT_EQ(plan.waiting(), ref.due_at.size()) << "seed " << seed << " step " << step;
    }
  }
}
