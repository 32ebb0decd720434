// Log lines for operators: one line per event on stderr, where journald (or a container's log
// driver) adds the time. Each line is logfmt, so people read it and tools parse it:
//   level=warning component=http msg="too many open files: ..."
//   level=info component=gateway connection=roof msg="answers again after 4 min 10 s"
// What is worth a line is decided by the caller, once per episode, never per poll. The one
// place in core that writes anything: a line to stderr, nothing else.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sb {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3 };

std::string_view to_string(LogLevel level);
/// "debug", "info", "warning" (or "warn"), "error"; InvalidArgument naming the valid ones.
Result<LogLevel> parse_log_level(std::string_view text);

/// Lines below this level are dropped (default: info). Thread-safe.
void set_log_level(LogLevel level);
LogLevel log_level();
inline bool log_enabled(LogLevel level) {
  return level >= log_level();
}

/// Writes one line (thread-safe; a line is never interleaved with another). `connection` may
/// be empty. Quotes and control characters in the message are escaped.
void log(LogLevel level, std::string_view component, std::string_view connection,
         std::string_view message);

/// Where lines go instead of stderr (tests read them); empty: stderr again.
using LogSink = std::function<void(LogLevel, std::string_view line)>;
void set_log_sink(LogSink sink);

/// The line log() writes, without the newline (tests).
std::string log_line(LogLevel level, std::string_view component, std::string_view connection,
                     std::string_view message);

}  // namespace sb
