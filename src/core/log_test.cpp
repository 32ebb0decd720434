#include "core/log.hpp"

#include <gtest/gtest.h>

using namespace sb;

TEST(Log, LinesAreLogfmtWithQuotedMessages) {
  EXPECT_EQ(log_line(LogLevel::Warning, "http", "", "too many open files"),
            "level=warning component=http msg=\"too many open files\"");
  EXPECT_EQ(log_line(LogLevel::Info, "gateway", "roof", "ok"),
            "level=info component=gateway connection=roof msg=ok");
  EXPECT_EQ(log_line(LogLevel::Error, "store", "", "a \"quoted\"\nline\x01"),
            "level=error component=store msg=\"a \\\"quoted\\\"\\nline\\x01\"");
}

TEST(Log, LevelsParseAndFilter) {
  EXPECT_EQ(*parse_log_level("warn"), LogLevel::Warning);
  EXPECT_EQ(*parse_log_level("debug"), LogLevel::Debug);
  auto bad = parse_log_level("loud");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "log level 'loud' is not one of debug, info, warning, error");
  auto before = log_level();
  set_log_level(LogLevel::Error);
  EXPECT_FALSE(log_enabled(LogLevel::Warning));
  EXPECT_TRUE(log_enabled(LogLevel::Error));
  set_log_level(before);
}
