#include "engine/fleet.hpp"

#include <gtest/gtest.h>

#include "net/crypto.hpp"

using namespace sb;
using namespace sb::engine;

namespace {

const std::string kKey(32, '\x2a');

ConnectionConfig battery() {
  ConnectionConfig c;
  c.name = "bat-0042";
  c.vendor = "sonnen";
  c.site = "home-7";
  c.host = "10.0.4.2";
  c.port = 8080;
  c.poll_interval = std::chrono::seconds(15);
  c.options = {{"token", "s3cret-api-token"}, {"max_power_w", "4600"}};
  return c;
}

store::FleetConnection row_of(const ConnectionConfig& c, const std::string& sealed) {
  return {c.name, c.site, c.vendor, "", sealed, {}};
}

}  // namespace

TEST(FleetSecrets, SettingsSealAndOpenWithTheKeyAndShowNoSecret) {
  auto c = battery();
  auto sealed = seal_connection(c, kKey);
  ASSERT_TRUE(sealed) << sealed.error().message;
  EXPECT_EQ(sealed->find("s3cret"), std::string::npos);
  EXPECT_EQ(sealed->find("10.0.4.2"), std::string::npos);
  EXPECT_NE(*sealed, *seal_connection(c, kKey));  // a fresh nonce each time
  auto back = open_connection(row_of(c, *sealed), kKey);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->host, "10.0.4.2");
  EXPECT_EQ(back->port, 8080);
  EXPECT_EQ(back->poll_interval, std::chrono::seconds(15));
  EXPECT_EQ(back->options.at("token"), "s3cret-api-token");
  EXPECT_EQ(back->site, "home-7");
}

TEST(FleetSecrets, AnotherKeyAChangedRowOrAMovedRowIsRefusedByName) {
  auto c = battery();
  auto sealed = *seal_connection(c, kKey);
  auto other = open_connection(row_of(c, sealed), std::string(32, 'x'));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, ErrorKind::Auth);
  EXPECT_NE(other.error().message.find("connection 'bat-0042' in the database: its settings do "
                                       "not open with the fleet key"),
            std::string::npos)
      << other.error().message;
  auto bytes = *crypto::base64_decode(sealed.substr(3));
  bytes[20] ^= 1;
  EXPECT_FALSE(open_connection(row_of(c, "v1:" + crypto::base64_encode(bytes)), kKey));
  auto moved = row_of(c, sealed);
  moved.name = "bat-0043";
  auto m = open_connection(moved, kKey);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("sealed for 'bat-0042'"), std::string::npos);
  EXPECT_FALSE(open_connection(row_of(c, "plain text"), kKey));
  EXPECT_FALSE(open_connection(row_of(c, "v1:AAAA"), kKey));
}

TEST(FleetSecrets, TheKeyIsHexOrBase64OfThirtyTwoBytes) {
  std::string hex(64, 'a');
  auto k = parse_fleet_key(" " + hex + "\n", "key.txt");
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, std::string(32, '\xaa'));
  auto b = parse_fleet_key(crypto::base64_encode(kKey), "env");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, kKey);
  auto bad = parse_fleet_key("too short", "the environment variable K");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "the environment variable K: the fleet key must be 32 bytes, written as 64 hex "
            "digits or in base64 (make one with: openssl rand -hex 32)");
  FleetConfig f;
  f.key_env = "SB_TEST_NO_SUCH_VARIABLE";
  auto missing = load_fleet_key(f);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "fleet.key_env: the environment variable SB_TEST_NO_SUCH_VARIABLE is not set");
}
