#include <gtest/gtest.h>

#include "engine/housekeeping.hpp"

namespace sb::engine {
namespace {

constexpr std::int64_t MiB = 1024 * 1024;

TEST(DiskNearlyFull, UnderFivePercentOrUnder500MiBFree) {
  // A 4 GiB card: 500 MiB is the larger bound.
  EXPECT_TRUE(disk_nearly_full(499 * MiB, 4096 * MiB));
  EXPECT_FALSE(disk_nearly_full(500 * MiB, 4096 * MiB));
  // A 100 GiB disk: 5 % (5 GiB) is.
  EXPECT_TRUE(disk_nearly_full(5000 * MiB, 102400 * MiB));
  EXPECT_FALSE(disk_nearly_full(5200 * MiB, 102400 * MiB));
}

}  // namespace
}  // namespace sb::engine
