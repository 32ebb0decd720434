// A token bucket on Clock: `rate` tokens per second, at most `burst` saved up. Pure: callers
// decide how to wait (asio timer in production, ManualClock::advance in tests).
#pragma once

#include <mutex>

#include "core/clock.hpp"

namespace sb::net {

class TokenBucket {
 public:
  /// Starts full. rate > 0 tokens/s, burst >= 1 tokens.
  TokenBucket(const Clock& clock, double rate_per_second, double burst);

  /// Takes n tokens if available now.
  bool try_take(double n = 1);
  /// How long until n tokens are available (0 when they are now).
  Millis wait_time(double n = 1) const;
  double available() const;

 private:
  void refill_locked() const;
  const Clock& clock_;
  double rate_;
  double burst_;
  mutable double tokens_;
  mutable TimePoint last_;
  mutable std::mutex mutex_;
};

}  // namespace sb::net
