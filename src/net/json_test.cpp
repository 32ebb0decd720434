#include "net/json.hpp"
#include "net/json_stream.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace sb;
using namespace sb::net;

TEST(Json, ParseErrorsSayWhereAndWhat) {
  auto r = parse_json_object(R"({"a":1,)", "status");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
  EXPECT_NE(r.error().message.find("status: invalid JSON at byte"), std::string::npos);
  auto empty = parse_json("", "status");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("(empty body)"), std::string::npos);
  auto arr = parse_json_object("[1]", "status");
  ASSERT_FALSE(arr);
  EXPECT_EQ(arr.error().message, "status: expected a JSON object, got array");
  auto trailing = parse_json(R"({"a":1} x)", "status");
  ASSERT_FALSE(trailing);
  EXPECT_NE(trailing.error().message.find("extra data"), std::string::npos);
  EXPECT_TRUE(parse_json("{\"a\":1}\n", "status"));
}

TEST(Json, TypedFieldsNameTheField) {
  auto o = *parse_json_object(R"({"i":3,"d":2.5,"s":"7.5","x":"abc","n":null,"t":"hi"})", "w");
  EXPECT_EQ(*get_number(o, "i", "w"), 3);
  EXPECT_EQ(*get_number(o, "d", "w"), 2.5);
  EXPECT_EQ(*get_number(o, "s", "w", true), 7.5);
  auto notnum = get_number(o, "s", "w");
  ASSERT_FALSE(notnum);
  EXPECT_EQ(notnum.error().message, R"(w: field 's' should be a number, got "7.5")");
  auto missing = get_number(o, "zz", "w");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "w: field 'zz' is missing");
  EXPECT_FALSE(get_number(o, "x", "w", true));
  EXPECT_FALSE(get_optional_number(o, "n", "w")->has_value());
  EXPECT_EQ(*get_string(o, "t", "w"), "hi");
  EXPECT_FALSE(get_string(o, "i", "w"));
}

TEST(Json, IntegersAreRangeCheckedBeforeTheyAreCast) {
  EXPECT_EQ(*whole_number(41.6, 0, 100, "w", "k"), 42);
  EXPECT_EQ(*whole_number(-3, -5, 5, "w", "k"), -3);
  for (double bad : {1e20, -1e20, double(INFINITY), -double(INFINITY), double(NAN), 101.0})
    EXPECT_FALSE(whole_number(bad, 0, 100, "w", "k")) << bad;
  EXPECT_EQ(whole_number(1e20, 0, 100, "w", "k").error().message,
            "w: field 'k' = 1e+20 is outside 0..100");
  auto o = *parse_json_object(R"({"big":1e999,"t":1700000000,"huge":1e300,"s":"12"})", "w");
  EXPECT_EQ(*get_integer(o, "t", "w", 0, kExactInteger), 1700000000);
  EXPECT_EQ(get_integer(o, "huge", "w", 0, kExactInteger).error().kind, ErrorKind::Protocol);
  EXPECT_EQ(*get_integer(o, "s", "w", 0, 99, true), 12);

  FieldReader f("vendor answer");
  EXPECT_EQ(f.integer(o, "t"), 1700000000);
  EXPECT_EQ(f.integer(o, "absent"), 0);
  EXPECT_FALSE(f.error());
  EXPECT_EQ(f.number(o, "big"), 0);  // refused: the first error is kept
  EXPECT_EQ(f.integer(o, "huge"), 0);
  auto r = f.result(7);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "vendor answer: field 'big' = inf is not a finite number");
}

TEST(Json, NumbersAreWrittenAsPeopleWriteThem) {
  json::object o;
  o["a"] = 2.5;
  o["b"] = 0.0;
  o["c"] = 230.0;
  o["d"] = -35;
  o["e"] = std::nan("");
  o["s"] = "x\"y";
  o["l"] = json::array{1, 50.01, true, nullptr};
  EXPECT_EQ(to_json(o),
            R"({"a":2.5,"b":0,"c":230,"d":-35,"e":null,"s":"x\"y","l":[1,50.01,true,null]})");
}

TEST(Json, StringsAreEscapedAsJsonSerializeDoesAndParseBack) {
  std::string nasty = "quote \" backslash \\ slash / tab \t newline \n cr \r bell \x07 nul ";
  nasty += '\0';
  nasty +=
      " umlaut \xc3\xa4 unit \xc2\xb0"
      "C";
  json::object o;
  o[nasty] = nasty;
  auto text = to_json(o);
  EXPECT_EQ(text, json::serialize(o));
  EXPECT_NE(text.find(R"(\u0007)"), std::string::npos);
  EXPECT_NE(text.find(R"(\u0000)"), std::string::npos);
  auto back = parse_json_object(text, "w");
  ASSERT_TRUE(back);
  EXPECT_EQ(std::string((*back)[nasty].as_string()), nasty);
  EXPECT_EQ(to_json(json::array{"a\"b", 1}), R"(["a\"b",1])");
}

// Found by fuzz_rest: a request body with a byte that is not UTF-8 was quoted into the 400's
// message as it was, and the error body was no longer JSON.
TEST(Json, BytesThatAreNotUtf8AreWrittenAsTheReplacementCharacter) {
  std::string bad =
      "30\xAD, \xC3\xA4 ok, \xE2\x82 cut, \xC0\xAF overlong, \xED\xA0\x80 surrogate, "
      "\xF4\x90\x80\x80 too high, \xF0\x9F\x94\x8B emoji";
  auto text = to_json(json::object{{"message", bad}});
  EXPECT_EQ(text,
            "{\"message\":\"30\xEF\xBF\xBD, \xC3\xA4 ok, \xEF\xBF\xBD\xEF\xBF\xBD cut, "
            "\xEF\xBF\xBD\xEF\xBF\xBD overlong, \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD surrogate, "
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD too high, \xF0\x9F\x94\x8B emoji\"}");
  EXPECT_TRUE(parse_json_object(text, "w"));  // Boost.JSON's parser checks UTF-8
}

TEST(Json, NumberTextWritesWholeNumbersWithoutAnExponent) {
  EXPECT_EQ(number_text(5.4e9), "5400000000");
  EXPECT_EQ(number_text(-35), "-35");
  EXPECT_EQ(number_text(50.01), "50.01");
  EXPECT_EQ(number_text(0.47), "0.47");
  EXPECT_EQ(number_text(1e20), "1e+20");
}

namespace {
// Records what a DepthSink passes on, skipping the values of keys starting with '_'.
class Recorder final : public sb::net::DepthSink {
 public:
  std::string seen;

 private:
  bool on_begin(bool object) override {
    seen += (object ? "{" : "[") + std::to_string(depth());
    return true;
  }
  bool on_end(bool object) override {
    seen += (object ? "}" : "]") + std::to_string(depth());
    return true;
  }
  bool on_key(std::string_view k) override {
    if (k.starts_with("_"))
      skip();
    else
      seen += " " + std::string(k) + ":";
    return true;
  }
  bool on_string(std::string_view s) override {
    seen += "'" + std::string(s) + "'";
    return true;
  }
  bool on_number(double v) override {
    seen += sb::net::number_text(v);
    return true;
  }
  bool on_null() override {
    seen += "null";
    return true;
  }
};
}  // namespace

TEST(JsonStream, DepthSinkSeesWhatItKeepsAndNothingOfWhatItSkips) {
  Recorder r;
  ASSERT_TRUE(sb::net::stream_json(
      R"({"a":1,"_b":{"c":[1,{"d":2}],"e":"x"},"f":["y\u0041",null],"_g":3,"h":{}} )", r));
  EXPECT_EQ(r.seen, "{1 a:1 f:[2'yA'null]1 h:{2}1}0");
  Recorder bad, extra, empty;
  EXPECT_FALSE(sb::net::stream_json(R"({"a":1)", bad));
  EXPECT_FALSE(sb::net::stream_json(R"({"a":1} {})", extra));
  EXPECT_FALSE(sb::net::stream_json("", empty));
  Recorder bools;  // on_bool is not overridden: a boolean stops the stream
  EXPECT_FALSE(sb::net::stream_json(R"({"a":true})", bools));
  Recorder skipped;  // unless skipped
  EXPECT_TRUE(sb::net::stream_json(R"({"_a":true})", skipped));
}
