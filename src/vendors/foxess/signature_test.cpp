#include "vendors/foxess/signature.hpp"

#include <gtest/gtest.h>

using namespace sb;

TEST(FoxessSignature, SeedGoldenVectorWithLiteralBackslashes) {
  // foxess.md §2.2: 42 characters signed, literal backslash-r-backslash-n.
  auto text = foxess::signature_text("/op/v0/device/list", "abc", 1700000000000);
  EXPECT_EQ(text, R"(/op/v0/device/list\r\nabc\r\n1700000000000)");
  EXPECT_EQ(text.size(), 42u);
  EXPECT_EQ(foxess::sign("/op/v0/device/list", "abc", 1700000000000),
            "1e6f25788802deadb8f8241565232f6a");
  // The prose's reading (real CR LF) gives another digest, which the cloud refuses.
  EXPECT_EQ(foxess::sign("/op/v0/device/list", "abc", 1700000000000, true),
            "8008d5d204bbc42a55894dcef1a24196");
}

TEST(FoxessSignature, ProtocolsGoldenVector) {
  // protocols.md §2.1: 61 bytes signed; the CR LF variant is 57 bytes.
  EXPECT_EQ(
      foxess::signature_text("/op/v0/device/real/query", "abcdef0123456789", 1715000000000).size(),
      61u);
  EXPECT_EQ(foxess::sign("/op/v0/device/real/query", "abcdef0123456789", 1715000000000),
            "d52b7db06d125b73c38a5754da285923");
  EXPECT_EQ(
      foxess::signature_text("/op/v0/device/real/query", "abcdef0123456789", 1715000000000, true)
          .size(),
      57u);
  EXPECT_EQ(foxess::sign("/op/v0/device/real/query", "abcdef0123456789", 1715000000000, true),
            "de8bf5bfca2b98090a6ec0932ce58bac");
}

TEST(FoxessSignature, HeadersCarryTheSameTimestampAsTheSignature) {
  auto h = foxess::signed_headers("/op/v0/device/list", "abc", 1700000000000);
  EXPECT_EQ(net::find_header(h, "token"), "abc");
  EXPECT_EQ(net::find_header(h, "timestamp"), "1700000000000");
  EXPECT_EQ(net::find_header(h, "signature"), "1e6f25788802deadb8f8241565232f6a");
  EXPECT_EQ(net::find_header(h, "lang"), "en");
}
