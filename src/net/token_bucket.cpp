#include "net/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sb::net {

TokenBucket::TokenBucket(const Clock& clock, double rate, double burst)
    : clock_(clock), rate_(rate), burst_(burst), tokens_(burst), last_(clock.now()) {
  if (!(rate > 0) || !(burst >= 1))
    throw std::invalid_argument("token bucket: rate > 0, burst >= 1");
}

void TokenBucket::refill_locked() const {
  auto now = clock_.now();
  if (now > last_) {
    double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + seconds * rate_);
    last_ = now;
  }
}

bool TokenBucket::try_take(double n) {
  std::lock_guard lock(mutex_);
  refill_locked();
  if (tokens_ + 1e-9 < n) return false;
  tokens_ -= n;
  return true;
}

Millis TokenBucket::wait_time(double n) const {
  std::lock_guard lock(mutex_);
  refill_locked();
  if (tokens_ + 1e-9 >= n) return Millis(0);
  return Millis(static_cast<std::int64_t>(std::ceil((n - tokens_) / rate_ * 1000.0)));
}

double TokenBucket::available() const {
  std::lock_guard lock(mutex_);
  refill_locked();
  return tokens_;
}

}  // namespace sb::net
