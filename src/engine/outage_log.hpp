// What the journal says about one connection's failures: an outage once when it starts, a
// summary every 15 minutes while it lasts (and when the kind of failure changes), its end with
// its length; never a line per poll. Refused credentials are an error with what to do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace sb::engine {

/// One connection's failure episode. Not thread-safe: the connection's strand only.
class OutageLog {
 public:
  explicit OutageLog(std::string connection) : connection_(std::move(connection)) {}

  /// A failed poll at `now`.
  void failure(const Error& e, TimePoint now);
  /// A poll that worked at `now`: the end of the episode, if one was going on.
  void recovery(TimePoint now);

 private:
  std::string connection_;
  std::optional<TimePoint> failing_since_;
  std::int64_t failed_ = 0;  // polls failed in this episode
  TimePoint last_summary_{};
  std::optional<ErrorKind> kind_;  // of the last error: a change of kind is worth a line
};

}  // namespace sb::engine
