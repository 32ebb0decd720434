// The FoxESS client's decoding of answers a test scripts (HttpClientOptions::fake_peer): what
// the simulator never sends.
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/test_time.hpp"
#include "net/test_io.hpp"
#include "vendors/foxess/client.hpp"

using namespace sb;

namespace {

struct Scripted : ::testing::Test {
  ManualClock clock{test::at("2026-06-21T10:00:00Z")};
  net::TestIo io{1};
  std::string body;  // the cloud's answer to every request
  net::HttpClient http{io.executor(), [this] {
                         net::HttpClientOptions o;
                         o.fake_peer = [this](const net::Endpoint&, const net::HttpRequest&) {
                           return Result<net::HttpResponse>(net::HttpResponse{
                               200, {{"Content-Type", "application/json"}}, body});
                         };
                         return o;
                       }()};
  foxess::Client client{http, {"127.0.0.1", 1, false}, "key", clock, Millis(1000)};
};

}  // namespace

TEST_F(Scripted, TheDeviceTimeIsReadWithEachFieldInItsRange) {
  body = R"({"errno":0,"msg":"success","result":{"year":"2026","month":"06","day":"21",)"
         R"("hour":"12","minute":"16","second":"08"}})";
  auto t = io.run(client.device_time("SN1"));
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->year, 2026);
  EXPECT_EQ(t->month, 6);
  EXPECT_EQ(t->day, 21);
  EXPECT_EQ(t->hour, 12);
  EXPECT_EQ(t->minute, 16);
  EXPECT_EQ(t->second, 8);

  // A fuzz finding: a year past int's range was converted to int (undefined behaviour).
  body = R"({"errno":0,"msg":"success","result":{"year":"20211111111111111111111111111111111111)"
         R"(111111111116","month":"06","day":"21","hour":"12","minute":"16","second":"08"}})";
  auto huge = io.run(client.device_time("SN1"));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().kind, ErrorKind::Protocol);
  EXPECT_EQ(huge.error().message,
            "FoxESS device time: field 'year' = 2.021111111111111e+49 is outside 0..9999");

  body = R"({"errno":0,"result":{"year":"2026","month":"13","day":"21","hour":"25"}})";
  auto month = io.run(client.device_time("SN1"));
  ASSERT_FALSE(month);
  EXPECT_EQ(month.error().message, "FoxESS device time: field 'month' = 13 is outside 1..12");
}

// The same for the data loggers' list: a status past int's range is an error, not a cast.
TEST_F(Scripted, ModuleAndMeterNumbersMustFitTheirFields) {
  body = R"({"errno":0,"result":{"total":1,"data":[{"moduleSN":"M1","stationID":"p1",)"
         R"("status":1,"signal":87}]}})";
  auto ok = io.run(client.modules());
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].sn, "M1");
  EXPECT_EQ((*ok)[0].signal, 87);

  body = R"({"errno":0,"result":{"total":1,"data":[{"moduleSN":"M1","status":1e20}]}})";
  auto bad = io.run(client.modules());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "FoxESS module list: field 'status' = 1e+20 is outside -2147483648..2147483647");
  auto meters = io.run(client.meters());
  ASSERT_FALSE(meters);
  EXPECT_NE(meters.error().message.find("FoxESS meter list: field 'status'"), std::string::npos);
}

// The v1 scheduler's SoC bounds are percentages: one past int was cast unchecked.
TEST_F(Scripted, TheSchedulersSocBoundsArePercentages) {
  body = R"({"errno":0,"result":{"enable":"1","groups":[],"properties":{)"
         R"("minSocOnGrid":{"range":{"min":15,"max":100}},"fdSoc":{"range":{"min":11,"max":100}},)"
         R"("fdPwr":{"range":{"min":0,"max":6000}}}}})";
  auto ok = io.run(client.scheduler("SN1", true));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->limits.min_soc_on_grid_min, 15);
  EXPECT_EQ(ok->limits.fd_soc_min, 11);
  EXPECT_EQ(ok->limits.fd_pwr_max, 6000);

  body = R"({"errno":0,"result":{"enable":"1","groups":[],"properties":{)"
         R"("minSocOnGrid":{"range":{"min":1e12,"max":100}}}}})";
  auto bad = io.run(client.scheduler("SN1", true));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "FoxESS /op/v1/device/scheduler/get properties: field 'minSocOnGrid.range.min' = "
            "1000000000000 is outside 0..100");
}
