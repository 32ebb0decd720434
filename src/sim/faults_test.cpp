#include "sim/faults.hpp"

#include <gtest/gtest.h>

using namespace sb;
using namespace sb::sim;

TEST(FaultSpec, ParsesEveryKey) {
  auto s = parse_fault_spec("latency=200ms,jitter=1s,error=0.1,drop=0.05,malformed=0.02,seed=7");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->latency.count(), 200);
  EXPECT_EQ(s->latency_jitter.count(), 1000);
  EXPECT_DOUBLE_EQ(s->error_rate, 0.1);
  EXPECT_DOUBLE_EQ(s->drop_rate, 0.05);
  EXPECT_DOUBLE_EQ(s->malformed_rate, 0.02);
  EXPECT_EQ(s->seed, 7u);
  EXPECT_FALSE(parse_fault_spec("")->any());
}

TEST(FaultSpec, ErrorsNameTheItem) {
  EXPECT_EQ(parse_fault_spec("latency=fast").error().message,
            "faults: 'latency=fast' needs a duration such as 200ms or 2s");
  EXPECT_EQ(parse_fault_spec("error=2").error().message,
            "faults: 'error=2' needs a rate from 0 to 1");
  EXPECT_EQ(parse_fault_spec("boom=1").error().message,
            "faults: unknown key 'boom' (valid: latency, jitter, error, drop, malformed, seed)");
  EXPECT_EQ(parse_fault_spec("drop").error().message, "faults: 'drop' is not key=value");
  EXPECT_FALSE(parse_fault_spec("error=0.6,drop=0.6"));
}

TEST(FaultInjector, DrawsAtTheConfiguredRatesReproducibly) {
  FaultSpec spec;
  spec.error_rate = 0.2;
  spec.drop_rate = 0.1;
  spec.seed = 3;
  FaultInjector a(spec), b(spec);
  int errors = 0, drops = 0;
  for (int i = 0; i < 10'000; ++i) {
    auto x = a.next();
    EXPECT_EQ(x, b.next());
    errors += x == FaultAction::Error;
    drops += x == FaultAction::Drop;
  }
  EXPECT_NEAR(errors / 10'000.0, 0.2, 0.02);
  EXPECT_NEAR(drops / 10'000.0, 0.1, 0.02);
}
