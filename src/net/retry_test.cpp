#include "net/retry.hpp"

#include <gtest/gtest.h>

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
