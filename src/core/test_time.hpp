// For tests: a time from RFC 3339 text or a date ("2026-06-15T08:00:00Z", "2026-06-15").
// Text that is not a time throws, so a typo fails the test where it is.
#pragma once

#include <stdexcept>
#include <string>

#include "core/clock.hpp"

namespace sb::test {

inline TimePoint at(const char* iso) {
  TimePoint t;
  if (!parse_iso8601(iso, t)) throw std::invalid_argument(std::string("not a time: ") + iso);
  return t;
}

}  // namespace sb::test
