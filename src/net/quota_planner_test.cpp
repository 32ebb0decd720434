#include "net/quota_planner.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/test_time.hpp"

using namespace sb;
using sb::test::at;
using namespace sb::net;
using namespace std::chrono;

TEST(QuotaPlanner, PacesEachInterfaceOnItsOwn) {
  ManualClock clock(at("2026-06-21T00:00:00Z"));
  QuotaPlanner p(clock, {});
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Live));
  EXPECT_FALSE(p.try_take("/a", CallPurpose::Live));  // within a second
  EXPECT_TRUE(p.try_take("/b", CallPurpose::Live));   // another interface
  EXPECT_EQ(p.pacing_wait("/a"), Millis(1000));
  clock.advance(Millis(1000));
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Live));
  EXPECT_TRUE(p.try_take("/w", CallPurpose::Command, true));
  clock.advance(Millis(1500));
  EXPECT_FALSE(p.try_take("/w", CallPurpose::Command, true));  // writes: 2 s
  EXPECT_EQ(p.used(), 4);
}

// A call the cloud was slow to answer: it may have taken it just before answering, so the next
// call of the interface waits a gap from the answer, not from the sending.
TEST(QuotaPlanner, TheNextCallIsPacedFromTheAnswerOfTheOneBefore) {
  ManualClock clock(at("2026-06-21T00:00:00Z"));
  QuotaPlanner p(clock, {});
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Live));
  clock.advance(Millis(13'000));  // answered 13 s later
  EXPECT_EQ(p.pacing_wait("/a"), Millis(0));
  p.answered("/a");
  EXPECT_EQ(p.pacing_wait("/a"), Millis(1000));
  EXPECT_FALSE(p.try_take("/a", CallPurpose::Live));
  EXPECT_TRUE(p.try_take("/b", CallPurpose::Live));
  clock.advance(Millis(1000));
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Live));
  EXPECT_EQ(p.used(), 3);
  // Given up on after 15 s without an answer: the cloud may still take it as late again.
  p.answered("/a", Millis(15'000));
  EXPECT_EQ(p.pacing_wait("/a"), Millis(16'000));
}

TEST(QuotaPlanner, LiveDataLeavesTheBackgroundShareAndTheCommandReserve) {
  ManualClock clock(at("2026-06-21T00:00:00Z"));
  QuotaPlanner p(clock, {100, Millis(0), Millis(0), Millis(0), 0.05, 0.15});
  int live = 0;
  while (p.try_take("/live", CallPurpose::Live)) ++live;
  EXPECT_EQ(live, 80);
  int background = 0;
  while (p.try_take("/history", CallPurpose::Background)) ++background;
  EXPECT_EQ(background, 15);
  int commands = 0;
  while (p.try_take("/set", CallPurpose::Command, true)) ++commands;
  EXPECT_EQ(commands, 5);
  EXPECT_EQ(p.left(), 0);
  // A new day (00:00 UTC) brings the whole budget back.
  clock.set(at("2026-06-22T00:00:00Z"));
  EXPECT_EQ(p.left(), 100);
  EXPECT_TRUE(p.try_take("/live", CallPurpose::Live));
}

TEST(QuotaPlanner, LiveIntervalSpreadsWhatIsLeftOverTheRestOfTheDay) {
  ManualClock clock(at("2026-06-21T00:00:00Z"));
  QuotaPlanner p(clock, {1440, Millis(1000), Millis(2000)});
  // 1440 - 72 reserve - 216 background = 1152 live calls over 24 h: one every 75 s.
  EXPECT_EQ(p.live_interval(1, Millis(10'000)), Millis(75'000));
  // Twenty inverters in one account, one batch call per refresh: the floor rules.
  p.set_period_calls(1440 * 20);
  EXPECT_EQ(p.live_interval(1, Millis(10'000)), Millis(10'000));
  // Half the day gone with the budget untouched: the rest spreads wider, not faster than needed.
  p.set_period_calls(1440);
  clock.set(at("2026-06-21T12:00:00Z"));
  EXPECT_EQ(p.live_interval(1, Millis(10'000)), Millis(37'500));
  // The vendor says less is left than we counted: we believe it.
  p.observe_remaining(1440 - 1368 + 288 / 2);
  EXPECT_GT(p.live_interval(1, Millis(10'000)), Millis(37'500));
}

TEST(QuotaPlanner, ARefusalForTheDayStopsEverythingUntilTheReset) {
  ManualClock clock(at("2026-06-21T18:00:00Z"));
  QuotaPlanner p(clock, {});
  p.on_refused("/live", true);
  EXPECT_FALSE(p.try_take("/live", CallPurpose::Live));
  EXPECT_FALSE(p.try_take("/set", CallPurpose::Command, true));
  EXPECT_EQ(p.left(), 0);
  EXPECT_EQ(p.next_reset(), at("2026-06-22T00:00:00Z"));
  EXPECT_GE(p.live_interval(1, Millis(10'000)), hours(6));
  clock.set(at("2026-06-22T00:00:01Z"));
  EXPECT_TRUE(p.try_take("/live", CallPurpose::Live));
}

TEST(QuotaPlanner, AMonthlyPlanWithAMinuteLimit) {
  // Enphase's Watt plan: 1,000 calls a UTC month, 10 a minute.
  ManualClock clock(at("2026-02-27T23:59:30Z"));
  QuotaLimits watt{1'000, Millis(0), Millis(0)};
  watt.period = QuotaPeriod::Month;
  watt.per_minute = 10;
  QuotaPlanner p(clock, watt);
  EXPECT_EQ(p.next_reset(), at("2026-03-01T00:00:00Z"));
  int taken = 0;
  while (p.try_take("/api/v4/systems", CallPurpose::Background)) ++taken;
  EXPECT_EQ(taken, 10);  // the minute's limit, not the month's
  EXPECT_EQ(p.pacing_wait("/other"), Millis(30'000));
  clock.advance(seconds(30));
  EXPECT_TRUE(p.try_take("/api/v4/systems", CallPurpose::Background));
  EXPECT_EQ(p.used(), 11);
  // Never due while the live share has no room, however long ago the last refresh was.
  EXPECT_TRUE(p.live_due(std::nullopt, 1, Millis(1000)));
  EXPECT_FALSE(p.live_due(clock.now(), 1, Millis(1000)));
  EXPECT_FALSE(p.live_due(clock.now() - hours(24 * 30), 801, Millis(1000)));
  // The live share (800 of the 1,000; the 11 spent were background work, which has a share of
  // its own) over the 1 day and 30 s left of February, one call per refresh: 86,430 s / 800.
  EXPECT_NEAR(double(p.live_interval(1, Millis(1000)).count()), 86'430'000.0 / 800, 1'000);
  // March brings the month back, and its reset is April the first.
  clock.set(at("2026-03-01T00:00:00Z"));
  EXPECT_EQ(p.used(), 0);
  EXPECT_EQ(p.next_reset(), at("2026-04-01T00:00:00Z"));
  // A 429 for the minute stops the minute; one for the month stops the month.
  p.on_minute_refused();
  EXPECT_FALSE(p.try_take("/a", CallPurpose::Command));
  clock.advance(minutes(1));
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Command));
  p.on_refused("/a", true);
  clock.advance(hours(24 * 20));
  EXPECT_FALSE(p.try_take("/a", CallPurpose::Command));
  EXPECT_EQ(p.left(), 0);
  clock.set(at("2026-04-01T00:00:01Z"));
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Command));
  // A 429 without numbers after 4 calls in a minute: the minute takes at most 3, it seems.
  p.set_per_minute(100);
  clock.advance(minutes(1));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(p.try_take("/a", CallPurpose::Command));
  EXPECT_EQ(p.minute_used(), 4);
  p.on_minute_refused();
  EXPECT_EQ(p.per_minute(), 3);
  // A 429 body tells the plan: the planner takes its numbers.
  p.set_period_calls(50'000);
  p.set_per_minute(50);
  EXPECT_EQ(p.period_calls(), 50'000);
  EXPECT_EQ(p.per_minute(), 50);
}

namespace {

// An account's ledger in memory, as the fleet's is in PostgreSQL: limit the largest asked,
// grants never past it.
class MemoryLedger final : public QuotaLedger {
 public:
  Result<Grant> reserve(const std::string& account, const std::string& window,
                        const std::string& connection, int want, int limit) override {
    if (down) return fail(ErrorKind::Transport, "ledger unreachable");
    auto& w = windows[account + "/" + window];
    w.limit = std::max(w.limit, limit);
    w.users.insert(connection);
    int granted = std::clamp(w.limit - w.used, 0, want);
    w.used += granted;
    ++calls;
    return Grant{granted, w.used, w.limit, static_cast<int>(w.users.size())};
  }
  Result<Millis> pace(const std::string&, const std::string&, Millis, bool) override {
    return Millis(0);
  }
  struct Window {
    int used = 0, limit = 0;
    std::set<std::string> users;
  };
  std::map<std::string, Window> windows;
  int calls = 0;
  bool down = false;
};

}  // namespace

// Two connections of one account (two fleet workers' planners) share its day through the
// ledger: together they never take more than the account's limit, each gets about half, and
// a new day brings the account's whole budget back. Slices are asked for ahead in small steps.
TEST(QuotaPlanner, ConnectionsOfOneAccountShareItsBudgetThroughTheLedger) {
  ManualClock clock(at("2026-06-21T00:00:00Z"));
  MemoryLedger ledger;
  auto inline_post = [](std::function<void()> work) { work(); };
  QuotaLimits limits{5000, Millis(0), Millis(0), Millis(0), 0, 0};
  QuotaPlanner a(clock, limits), b(clock, limits);
  a.share(ledger, "acct-1", "conn-a", inline_post);
  b.share(ledger, "acct-1", "conn-b", inline_post);
  int took_a = 0, took_b = 0;
  for (int i = 0; i < 20'000; ++i) {
    took_a += a.try_take("/q", CallPurpose::Command);
    took_b += b.try_take("/q", CallPurpose::Command);
  }
  // Alone, each would have taken 5,000.
  EXPECT_EQ(took_a + took_b, 5000);
  EXPECT_NEAR(took_a, 2500, 50);
  EXPECT_EQ(ledger.windows["acct-1/day:20625"].used, 5000);
  EXPECT_LE(ledger.calls, 5000 / 20 + 4);  // slices of 20, not a round trip per call
  EXPECT_EQ(a.left(), 0);
  EXPECT_EQ(a.ledger_error(), "");

  clock.advance(hours(24));
  EXPECT_TRUE(a.try_take("/q", CallPurpose::Command) || a.try_take("/q", CallPurpose::Command));
  EXPECT_EQ(ledger.windows["acct-1/day:20626"].users.size(), 1u);
}

// A minute's limit is shared the same way; a ledger that cannot be reached lets nothing
// through (the account's limit is not known to be safe), says why, and calls go on once it
// answers again.
TEST(QuotaPlanner, AMinuteIsSharedTooAndAnUnreachableLedgerLetsNothingThrough) {
  ManualClock clock(at("2026-06-21T00:00:00Z"));
  MemoryLedger ledger;
  auto inline_post = [](std::function<void()> work) { work(); };
  QuotaLimits limits{10'000, Millis(0), Millis(0), Millis(0), 0, 0, QuotaPeriod::Month, 40};
  QuotaPlanner a(clock, limits), b(clock, limits);
  a.share(ledger, "plan-7", "sys-1", inline_post);
  b.share(ledger, "plan-7", "sys-2", inline_post);
  int took = 0;
  for (int i = 0; i < 200; ++i)
    took += a.try_take("/q", CallPurpose::Live) + b.try_take("/q", CallPurpose::Live);
  EXPECT_EQ(took, 40);  // the minute's, not 40 each
  EXPECT_GT(a.pacing_wait("/q").count(), 0);
  clock.advance(minutes(1));
  ledger.down = true;
  EXPECT_FALSE(a.try_take("/q", CallPurpose::Command));
  EXPECT_EQ(a.ledger_error(), "ledger unreachable");
  ledger.down = false;
  bool went = false;
  for (int i = 0; i < 3 && !went; ++i) went = a.try_take("/q", CallPurpose::Command);
  EXPECT_TRUE(went);
  EXPECT_EQ(a.ledger_error(), "");
}
