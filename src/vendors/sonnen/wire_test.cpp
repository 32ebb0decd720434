#include "vendors/sonnen/wire.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace sb;
using namespace sb::sonnen;

namespace {
std::string fixture(const std::string& name) {
  std::ifstream in("src/vendors/sonnen/fixtures/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST(SonnenWire, SeedExampleParsesWithTheSpacedKey) {
  auto s = parse_status(fixture("status_seed_example.json"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->Timestamp, "2016-06-13 11:52:20");
  EXPECT_EQ(s->IsSystemInstalled, 1);
  EXPECT_EQ(s->Pac_total_W, 0);
  EXPECT_FALSE(s->GridFeedIn_W);
}

TEST(SonnenWire, RealFirmwareParsesWithExtras) {
  auto s = parse_status(fixture("status_eco8_firmware.json"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->Pac_total_W, 687);
  EXPECT_EQ(s->USOC, 82);
  EXPECT_EQ(s->RSOC, 84);
  EXPECT_NEAR(s->Fac, 50.004, 1e-3);
  EXPECT_EQ(*s->GridFeedIn_W, -35);
  EXPECT_EQ(*s->SystemStatus, "OnGrid");
  EXPECT_EQ(*s->OperatingMode, "2");
}

TEST(SonnenWire, SeedZeroExampleSerialisesToExactly151Bytes) {
  StatusV1 s;
  s.IsSystemInstalled = 1;
  s.Timestamp = "2016-06-13 11:52:20";
  auto body = serialize_status(s);
  EXPECT_EQ(
      body,
      R"({"Consumption_W":0,"Fac":0,"IsSystemInstalled":1,"Pac_total_W":0,"Production_W":0,"RSOC":0,"Timestamp":"2016-06-13 11:52:20","USOC":0,"Uac":0,"Ubat":0})");
  EXPECT_EQ(body.size(), 151u);  // the seed's Content-Length
}

TEST(SonnenWire, ReturnCodeBodyIsTheSeedsEighteenBytes) {
  EXPECT_EQ(return_code_body(ReturnCode::Ok), "{\"ReturnCode\": 0}\n");
  EXPECT_EQ(return_code_body(ReturnCode::Ok).size(), 18u);
  EXPECT_EQ(parse_return_code(return_code_body(ReturnCode::InvalidMethod)), 16);
  EXPECT_FALSE(parse_return_code("<html>"));
}

TEST(SonnenWire, MalformedBodiesNameTheProblem) {
  auto missing = parse_status(R"({"Consumption_W":1})");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::Protocol);
  EXPECT_EQ(missing.error().message, "sonnen status: field 'Fac' is missing");
  auto wrong = parse_status(
      R"({"Consumption_W":"lots","Fac":50,"IsSystemInstalled":1,"Pac_total_W":0,"Production_W":0,"RSOC":1,"Timestamp":"x","USOC":1,"Uac":230,"Ubat":50})");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message,
            "sonnen status: field 'Consumption_W' should be a number, got \"lots\"");
  auto cut = parse_status(R"({"Consumption_W":719,"Fac":50.0)");
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("sonnen status: invalid JSON at byte"), std::string::npos);
  auto nopac = parse_status(
      R"({"Consumption_W":1,"Fac":50,"IsSystemInstalled":1,"Production_W":0,"RSOC":1,"Timestamp":"x","USOC":1,"Uac":230,"Ubat":50})");
  ASSERT_FALSE(nopac);
  EXPECT_EQ(nopac.error().message, "sonnen status: field 'Pac_total_W' is missing");
}

TEST(SonnenWire, NumericStringsAreAccepted) {
  auto s = parse_status(
      R"({"Consumption_W":"719","Fac":"50.01","IsSystemInstalled":"1","Pac_total_W":"-1200","Production_W":"3000","RSOC":"55","Timestamp":"2026-01-01 00:00:00","USOC":"53","Uac":"231","Ubat":"52.1"})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->Pac_total_W, -1200);
  EXPECT_EQ(s->IsSystemInstalled, 1);
}

// Found by fuzzing under UBSan: numbers that overflow an int were cast to one.
TEST(SonnenWire, NumbersOutOfTheirRangeAreRefusedNamingTheField) {
  const std::string base =
      R"({"Consumption_W":719,"Fac":50,"Pac_total_W":0,"Production_W":0,"RSOC":1,"Timestamp":"x","USOC":1,"Uac":230,"Ubat":50,)";
  auto installed = parse_status(base + R"("IsSystemInstalled":1e999})");
  ASSERT_FALSE(installed);
  EXPECT_EQ(installed.error().kind, ErrorKind::Protocol);
  EXPECT_EQ(installed.error().message,
            "sonnen status: field 'IsSystemInstalled' = inf is outside 0..1");
  auto mode = parse_status(base + R"("IsSystemInstalled":1,"OperatingMode":1e20})");
  ASSERT_FALSE(mode);
  EXPECT_EQ(mode.error().message, "sonnen status: field 'OperatingMode' = 1e+20 is outside 0..99");
  auto ok = parse_status(base + R"("IsSystemInstalled":1,"OperatingMode":10})");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->OperatingMode, "10");
  EXPECT_FALSE(parse_return_code(R"({"ReturnCode": 1e300})"));
  EXPECT_FALSE(parse_return_code(R"({"ReturnCode": -1e999})"));
}

// The fast path reads what real firmware and the simulator send without a DOM; what it reads
// must be what the full decoder reads, and what it does not take the full decoder decides.
TEST(SonnenWire, TheFastPathReadsCommonBodiesAsTheFullDecoderDoes) {
  const std::string sim =
      R"({"Consumption_W":812,"Fac":50.01,"IsSystemInstalled":1,"Pac_total_W":-1534,"Production_W":2871,"RSOC":57,"Timestamp":"2026-11-21 12:00:00","USOC":55,"Uac":231,"Ubat":52})";
  for (const auto& body :
       {sim, fixture("status_eco8_firmware.json"), fixture("status_seed_example.json"),
        // an unknown key holding nested values of every kind, a null feed-in, white space
        std::string(R"( {"x":{"a":[1,{"b":null},"c"],"Fac":"skipped"},)"
                    R"("Consumption_W":1,"Fac":50,"IsSystemInstalled":0,"Pac_total_W":0,)"
                    R"("Production_W":0,"RSOC":1,"Timestamp":"t\"q","USOC":1,"Uac":230,)"
                    R"("Ubat":50,"GridFeedIn_W":null,"y":[]} )")}) {
    auto fast = parse_status_fast(body);
    ASSERT_TRUE(fast) << body;
    auto full = parse_status_full(body);
    ASSERT_TRUE(full) << full.error().message;
    EXPECT_EQ(*fast, *full) << body;
  }
  auto escaped = parse_status_fast(
      R"({"x":{"a":[1,{"b":null},"c"],"Fac":"skipped"},"Consumption_W":1,"Fac":50,"IsSystemInstalled":0,"Pac_total_W":0,"Production_W":0,"RSOC":1,"Timestamp":"t\"q","USOC":1,"Uac":230,"Ubat":50,"GridFeedIn_W":null})");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->Timestamp, "t\"q");
  EXPECT_EQ(escaped->Fac, 50);
  EXPECT_FALSE(escaped->GridFeedIn_W);

  // What the fast path leaves to the full decoder: numeric strings, a duplicate key, a number
  // where a text belongs, a nested value in a field, a missing field, out-of-range and
  // non-finite numbers, JSON that is not JSON. parse_status() gives the full decoder's answer.
  const std::string base =
      R"("Consumption_W":1,"Fac":50,"Pac_total_W":0,"Production_W":0,"RSOC":1,"Timestamp":"x","USOC":1,"Uac":230,"Ubat":50)";
  for (const auto& body :
       {"{" + base + R"(,"IsSystemInstalled":"1"})",
        "{" + base + R"(,"IsSystemInstalled":1,"Fac":51})",
        "{" + base + R"(,"IsSystemInstalled":1,"OperatingMode":10})",
        "{" + base + R"(,"IsSystemInstalled":{"on":1}})", "{" + base + "}",
        "{" + base + R"(,"IsSystemInstalled":1e999})",
        "{" + base + R"(,"IsSystemInstalled":1,"Uac":1e999})",
        "{" + base + R"(,"IsSystemInstalled":1} x)", "[{" + base + R"(,"IsSystemInstalled":1}])"}) {
    EXPECT_FALSE(parse_status_fast(body)) << body;
    auto full = parse_status_full(body);
    auto both = parse_status(body);
    ASSERT_EQ(bool(full), bool(both)) << body;
    if (full)
      EXPECT_EQ(*full, *both);
    else
      EXPECT_EQ(full.error().message, both.error().message);
  }
  auto mode = parse_status("{" + base + R"(,"IsSystemInstalled":1,"OperatingMode":10})");
  ASSERT_TRUE(mode) << mode.error().message;
  EXPECT_EQ(mode->OperatingMode, "10");
}
