#include "net/gzip.hpp"

#include <gtest/gtest.h>

using namespace sb;
using namespace sb::net;

TEST(Gzip, AcceptEncodingIsReadAsRfc9110SaysIncludingQValues) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("identity, GZip"));
  EXPECT_TRUE(accepts_gzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("br;q=1, * ; q=0.2"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("*, gzip;q=0"));  // named outright: it counts before "*"
  EXPECT_FALSE(accepts_gzip("gzip;q=zero"));  // an unreadable q-value takes nothing
  EXPECT_FALSE(accepts_gzip("gzipped"));
}

TEST(Gzip, WhatIsPackedUnpacksToTheSameBytesAndBadBodiesNameTheirProblem) {
  std::string text;
  for (int i = 0; i < 20'000; ++i)
    text += "sunbridge_connection_up{connection=\"bat-" + std::to_string(i) + "\"} 1\n";
  auto packed = gzip(text);
  EXPECT_LT(packed.size(), text.size() / 5);
  ASSERT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);  // the gzip magic
  ASSERT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
  auto back = gunzip(packed);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, text);
  auto empty = gunzip(gzip(""));
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");

  auto cut = gunzip(std::string_view(packed).substr(0, packed.size() / 2));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().kind, ErrorKind::Protocol);
  EXPECT_NE(cut.error().message.find("gzip body: it ends before its data does"), std::string::npos)
      << cut.error().message;
  auto plain = gunzip("not gzip at all");
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("gzip body: incorrect header check"), std::string::npos)
      << plain.error().message;
  auto bomb = gunzip(packed, 1000);
  ASSERT_FALSE(bomb);
  EXPECT_EQ(bomb.error().message, "gzip body: more than 1000 bytes unpacked");
}
