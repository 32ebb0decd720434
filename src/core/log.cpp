#include "core/log.hpp"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace sb {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
std::mutex g_write;
LogSink g_sink;  // guarded by g_write

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

void set_log_sink(LogSink sink) {
  std::lock_guard lock(g_write);
  g_sink = std::move(sink);
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

// Whether stderr is journald's stream (systemd sets JOURNAL_STREAM to its device and inode):
// then each line starts with its syslog priority ("<4>"), so `journalctl -p warning` finds it.
static bool stderr_is_journal() {
  static const bool journal = [] {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (!env) return false;
    struct stat st {};
    if (::fstat(2, &st) != 0) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
    return dev == static_cast<unsigned long long>(st.st_dev) &&
           ino == static_cast<unsigned long long>(st.st_ino);
  }();
  return journal;
}

void log(LogLevel level, std::string_view component, std::string_view connection,
         std::string_view message) {
  if (!log_enabled(level)) return;
  auto line = log_line(level, component, connection, message);
  if (stderr_is_journal()) {
    static constexpr const char* kPriority[] = {"<7>", "<6>", "<4>", "<3>"};
    line.insert(0, kPriority[static_cast<int>(level)]);
  }
  std::lock_guard lock(g_write);
  if (g_sink) {
    g_sink(level, line);
    return;
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace sb
