#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace sb {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
std::mutex g_write;

void append_value(std::string& out, std::string_view v) {
  bool plain = !v.empty() && v.find_first_of(" =\"\\\n\r\t") == std::string_view::npos;
  if (plain) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", static_cast<unsigned char>(c));
          out += b;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}
}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warning:
      return "warning";
    case LogLevel::Error:
      return "error";
  }
  return "info";
}

Result<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::Debug;
  if (text == "info") return LogLevel::Info;
  if (text == "warning" || text == "warn") return LogLevel::Warning;
  if (text == "error") return LogLevel::Error;
  return fail(ErrorKind::InvalidArgument,
              "log level '" + std::string(text) + "' is not one of debug, info, warning, error");
}

void set_log_level(LogLevel level) {
  g_level.store(static_cast<int>(level));
}

LogLevel log_level() {
  return static_cast<LogLevel>(g_level.load());
}

std::string log_line(LogLevel level, std::string_view component, std::string_view connection,
                     std::string_view message) {
  std::string line = "level=";
  line += to_string(level);
  line += " component=";
  append_value(line, component);
  if (!connection.empty()) {
    line += " connection=";
    append_value(line, connection);
  }
  line += " msg=";
  append_value(line, message.empty() ? std::string_view("-") : message);
  return line;
}

void log(LogLevel level, std::string_view component, std::string_view connection,
         std::string_view message) {
  if (!log_enabled(level)) return;
  auto line = log_line(level, component, connection, message);
  line += '\n';
  std::lock_guard lock(g_write);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace sb
