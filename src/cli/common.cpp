#include <iostream>

#include "cli/commands.hpp"

namespace sb::cli {

int report(const std::string& message) {
  // One line each: a configuration with several mistakes names them all.
  std::size_t start = 0;
  do {
    auto end = message.find('\n', start);
    std::cerr << "sunbridge: " << message.substr(start, end - start) << "\n";
    start = end == std::string::npos ? end : end + 1;
  } while (start != std::string::npos && start < message.size());
  return 1;
}

Result<std::optional<ScaledClock>> simulated_timeline(double speed, const std::string& origin) {
  if (!(speed > 0 && speed <= 100'000))
    return fail(ErrorKind::InvalidArgument, "--speed must be within (0, 100000]");
  RealClock wall;
  if (origin.empty()) {
    if (speed == 1) return std::optional<ScaledClock>();
    return std::optional<ScaledClock>(ScaledClock(wall.now(), speed));
  }
  TimePoint t;
  if (!parse_iso8601(origin, t))
    return fail(ErrorKind::InvalidArgument,
                "--origin '" + origin + "' is not a time such as 2026-12-07T15:00:00Z");
  if (t > wall.now())
    return fail(ErrorKind::InvalidArgument, "--origin " + origin +
                                                " is in the future; simulated time starts from a "
                                                "moment that has passed");
  return std::optional<ScaledClock>(ScaledClock::on_timeline(t, speed, wall.now()));
}

}  // namespace sb::cli
