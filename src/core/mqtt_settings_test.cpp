#include "core/mqtt_settings.hpp"

#include <gtest/gtest.h>

using namespace sb;

TEST(MqttSettings, UrlsGiveHostPortTlsAndCredentials) {
  auto a = parse_mqtt_url("mqtt://192.168.1.10");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->host, "192.168.1.10");
  EXPECT_EQ(a->port, 1883);
  EXPECT_FALSE(a->tls);
  auto b = parse_mqtt_url("mqtts://ha:s3cr:et@broker.local:8884/");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->host, "broker.local");
  EXPECT_EQ(b->port, 8884);
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->username, "ha");
  EXPECT_EQ(b->password, "s3cr:et");
  EXPECT_EQ(parse_mqtt_url("mqtts://[::1]")->port, 8883);
  EXPECT_EQ(parse_mqtt_url("mqtt://[::1]:1999")->host, "::1");
  for (auto [url, why] :
       {std::pair{"tcp://h:1883", "must start with mqtt:// or mqtts://"},
        std::pair{"mqtt://h:0", "port '0' is not 1..65535"},
        std::pair{"mqtt://h:x", "port 'x' is not 1..65535"},
        std::pair{"mqtt://:1883", "has no host"}, std::pair{"mqtt://h/topic", "has a path"},
        std::pair{"mqtt://:pw@h", "names a password but no user"}}) {
    auto r = parse_mqtt_url(url);
    ASSERT_FALSE(r) << url;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(std::string("'") + url + "'"), std::string::npos);
  }
  EXPECT_EQ(mqtt_prefix_problem("home/solar"), "");
  EXPECT_EQ(mqtt_prefix_problem("a/#"), "may not contain the wildcards + or #");
  EXPECT_EQ(mqtt_prefix_problem("/a"), "may not start or end with '/'");
}
