#include "net/retry.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>

namespace sb::net {

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) : policy_(policy), state_(seed) {}

Millis Backoff::next() {
  double base = static_cast<double>(policy_.initial.count()) *
                std::pow(policy_.multiplier, static_cast<double>(attempt_));
  base = std::min(base, static_cast<double>(policy_.max.count()));
  ++attempt_;
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  z ^= z >> 31;
  const double unit = static_cast<double>(z >> 11) * 0x1.0p-53;  // [0, 1)
  const double factor = 1.0 - policy_.jitter + 2 * policy_.jitter * unit;
  double d = std::min(base * factor, static_cast<double>(policy_.max.count()));
  return Millis(static_cast<std::int64_t>(d));
}

asio::awaitable<void> AsioSleeper::sleep(Millis d) {
  asio::steady_timer t(ex_, clock_ ? real_wait(*clock_, d) : d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> ManualSleeper::sleep(Millis d) {
  waits_.push_back(d);
  clock_.advance(d);
  co_return;
}

}  // namespace sb::net
