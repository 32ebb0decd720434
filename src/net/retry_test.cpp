#include "net/retry.hpp"

#include <gtest/gtest.h>

#include <set>

#include "net/test_io.hpp"

using namespace sb;
using namespace sb::net;
namespace asio = boost::asio;

TEST(Backoff, GrowsWithJitterAndStopsAtMax) {
  Backoff b({Millis(100), Millis(1000), 2.0, 0.2, 10}, 7);
  auto d1 = b.next(), d2 = b.next(), d3 = b.next();
  EXPECT_GE(d1.count(), 80);
  EXPECT_LE(d1.count(), 120);
  EXPECT_GE(d2.count(), 160);
  EXPECT_LE(d2.count(), 240);
  EXPECT_GE(d3.count(), 320);
  EXPECT_LE(d3.count(), 480);
  for (int i = 0; i < 10; ++i) EXPECT_LE(b.next().count(), 1000);
}

// The jitter covers its whole band, both sides of the base, and seeds give different delays.
TEST(Backoff, JitterSpreadsOverItsBand) {
  int below = 0, above = 0;
  Millis lo{10'000}, hi{0};
  std::set<std::int64_t> firsts;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    Backoff b({Millis(1000), Millis(60'000), 2.0, 0.2, 10}, seed);
    auto d = b.next();
    firsts.insert(d.count());
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    below += d < Millis(1000);
    above += d > Millis(1000);
  }
  EXPECT_GE(lo.count(), 800);
  EXPECT_LE(hi.count(), 1200);
  EXPECT_LT(lo.count(), 810);
  EXPECT_GT(hi.count(), 1190);
  EXPECT_GT(below, 800);
  EXPECT_GT(above, 800);
  EXPECT_GT(firsts.size(), 300u);
}

TEST(Backoff, SameSeedSameDelays) {
  Backoff a({}, 42), b({}, 42);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(Retry, RetriesTransientErrorsOnTheManualClockAndHonoursRetryAfter) {
  TestIo io(1);
  ManualClock clock(from_ms(0));
  ManualSleeper sleeper(clock);
  int calls = 0;
  auto op = [&]() -> asio::awaitable<Result<int>> {
    ++calls;
    if (calls == 1) co_return fail(ErrorKind::Timeout, "slow");
    if (calls == 2) {
      Error e{ErrorKind::RateLimited, "quota"};
      e.retry_after = std::chrono::seconds(30);
      co_return std::unexpected(e);
    }
    co_return 7;
  };
  auto r = io.run(retry(op, BackoffPolicy{Millis(100), Millis(5000), 2, 0, 5}, sleeper));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(sleeper.waits().size(), 2u);
  EXPECT_EQ(sleeper.waits()[0].count(), 100);
  EXPECT_EQ(sleeper.waits()[1].count(), 30'000);
  EXPECT_EQ(to_ms(clock.now()), 30'100);
}

TEST(Retry, AuthErrorsAreNotRetriedAndAttemptsAreBounded) {
  TestIo io(1);
  ManualClock clock(from_ms(0));
  ManualSleeper sleeper(clock);
  int calls = 0;
  auto auth = [&]() -> asio::awaitable<Result<int>> {
    ++calls;
    co_return fail(ErrorKind::Auth, "bad password");
  };
  EXPECT_FALSE(io.run(retry(auth, BackoffPolicy{}, sleeper)));
  EXPECT_EQ(calls, 1);
  calls = 0;
  auto down = [&]() -> asio::awaitable<Result<int>> {
    ++calls;
    co_return fail(ErrorKind::Transport, "refused");
  };
  auto r = io.run(retry(down, BackoffPolicy{Millis(10), Millis(100), 2, 0, 4}, sleeper));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  EXPECT_EQ(calls, 4);
}
