#include "net/token_file.hpp"

#include <gtest/gtest.h>

using namespace sb;

// A token answer's expires_in: seconds as a number or text; a value no clock holds (the fuzzer's
// 3.5e120, which overflowed the conversion) or a negative one is a broken answer, said so.
TEST(TokenAnswer, ExpiresInIsALifetimeInSecondsOrTheAnswerIsRefused) {
  auto ok = net::parse_token_answer(
      200, R"({"access_token":"a","refresh_token":"r","expires_in":3600})", "token");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->expires_in, std::chrono::seconds(3600));
  EXPECT_EQ(ok->refresh_token, "r");
  for (const char* bad : {"3.5e120", "-5"}) {
    auto r = net::parse_token_answer(
        200, std::string(R"({"access_token":"a","expires_in":)") + bad + "}", "Solar-Log token");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
    EXPECT_NE(r.error().message.find("Solar-Log token: expires_in "), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("is not a lifetime in seconds (0 to 316224000)"),
              std::string::npos)
        << r.error().message;
  }
}
