#include "net/token_bucket.hpp"

#include <gtest/gtest.h>

using namespace sb;
using namespace sb::net;

TEST(TokenBucket, StartsFullRefillsAtRateAndCapsAtBurst) {
  ManualClock clock(from_ms(0));
  TokenBucket b(clock, 2.0, 3.0);  // 2/s, burst 3
  EXPECT_TRUE(b.try_take());
  EXPECT_TRUE(b.try_take());
  EXPECT_TRUE(b.try_take());
  EXPECT_FALSE(b.try_take());
  EXPECT_EQ(b.wait_time().count(), 500);
  clock.advance(Millis(499));
  EXPECT_FALSE(b.try_take());
  clock.advance(Millis(1));
  EXPECT_TRUE(b.try_take());
  clock.advance(Millis(60'000));
  EXPECT_DOUBLE_EQ(b.available(), 3.0);
}

TEST(TokenBucket, RejectsNonsenseLimits) {
  ManualClock clock(from_ms(0));
  EXPECT_THROW(TokenBucket(clock, 0, 1), std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, 1, 0.5), std::invalid_argument);
}
