// POST processdata's decoder: the fast path (no DOM) against the full decoder.
#include <gtest/gtest.h>

#include "vendors/kostal/client.hpp"

using namespace sb;
using namespace sb::kostal;

namespace {

// As the inverters answer (protocols.md §1.4): a unit on every value, integers and decimals.
const std::string kAnswer =
    R"([{"moduleid":"devices:local","processdata":[{"id":"Dc_P","unit":"W","value":2871.3},)"
    R"({"id":"Inverter:State","unit":"","value":6}]},)"
    R"({"moduleid":"devices:local:battery","processdata":[{"id":"SoC","unit":"%","value":57},)"
    R"({"id":"P","unit":"W","value":-1534.25}]}])";

}  // namespace

TEST(KostalProcessData, TheFastPathReadsTheDevicesAnswerAsTheFullDecoderDoes) {
  auto fast = parse_process_data_fast(kAnswer);
  ASSERT_TRUE(fast);
  ASSERT_EQ(fast->size(), 2u);
  EXPECT_EQ((*fast)[0].module, "devices:local");
  EXPECT_EQ((*fast)[0].get("Dc_P"), 2871.3);
  EXPECT_EQ((*fast)[0].values[1].id, "Inverter:State");
  EXPECT_EQ((*fast)[1].get("P"), -1534.25);
  EXPECT_EQ((*fast)[1].values[0].unit, "%");
  auto full = parse_process_data_full(kAnswer, "KOSTAL processdata");
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(*fast, *full);

  // Unknown keys with nested values, a null unit, no unit, an empty answer, escapes.
  for (const std::string body :
       {R"([{"x":[{"id":"no"}],"moduleid":"m","processdata":[{"id":"a","value":1,"unit":null},)"
        R"({"value":2,"id":"b\u0041","extra":{"value":"s"}}],"y":{}}])",
        "[]", " [ ] "}) {
    auto f = parse_process_data_fast(body);
    ASSERT_TRUE(f) << body;
    auto d = parse_process_data_full(body, "w");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(*f, *d) << body;
  }
  auto odd = parse_process_data_fast(
      R"([{"x":[{"id":"no"}],"moduleid":"m","processdata":[{"id":"a","value":1,"unit":null},)"
      R"({"value":2,"id":"b\u0041","extra":{"value":"s"}}],"y":{}}])");
  ASSERT_TRUE(odd);
  EXPECT_EQ((*odd)[0].values[1].id, "bA");
  EXPECT_EQ((*odd)[0].values[0].unit, "");
}

TEST(KostalProcessData, WhatTheFastPathLeavesTheFullDecoderDecidesAndWords) {
  struct Case {
    std::string body, error;  // error "": the full decoder accepts it
  };
  const Case cases[] = {
      // a numeric string: accepted by the full decoder only
      {R"([{"moduleid":"m","processdata":[{"id":"a","unit":"W","value":"12.5"}]}])", ""},
      // a duplicate key: the full decoder's choice
      {R"([{"moduleid":"m","processdata":[{"id":"a","value":1,"value":2}]}])", ""},
      {R"([{"moduleid":"m","processdata":[{"id":"a","unit":"W"}]}])",
       "w m/a: field 'value' is missing"},
      {R"([{"processdata":[]}])", "w: field 'moduleid' is missing"},
      {R"([{"moduleid":"m"}])", "w: 'processdata' of m is missing"},
      {R"([{"moduleid":"m","processdata":[7]}])", "w: items must be objects"},
      {R"({"moduleid":"m"})", "w: a JSON array was expected"},
      {R"([{"moduleid":"m","processdata":[{"id":"a","value":null}]}])",
       "w m/a: field 'value' is missing"},
      {R"([{"moduleid":"m","processdata":[{"id":"a","value":true}]}])",
       "w m/a: field 'value' should be a number, got true"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(parse_process_data_fast(c.body)) << c.body;
    auto r = parse_process_data(c.body, "w");
    if (c.error.empty()) {
      ASSERT_TRUE(r) << c.body << ": " << r.error().message;
      EXPECT_EQ(*r, *parse_process_data_full(c.body, "w"));
    } else {
      ASSERT_FALSE(r) << c.body;
      EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
      EXPECT_EQ(r.error().message, c.error) << c.body;
    }
  }
  auto cut = parse_process_data(R"([{"moduleid":"m","processdata":[{"id":"a")", "w");
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("w: invalid JSON at byte"), std::string::npos);
  auto numeric = parse_process_data(
      R"([{"moduleid":"m","processdata":[{"id":"a","unit":"W","value":"12.5"}]}])", "w");
  ASSERT_TRUE(numeric);
  EXPECT_EQ((*numeric)[0].get("a"), 12.5);
}
