#include "net/retry.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>

namespace sb::net {

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) : policy_(policy), rng_(seed) {}

Millis Backoff::next() {
  double base = static_cast<double>(policy_.initial.count()) *
                std::pow(policy_.multiplier, static_cast<double>(attempt_));
  base = std::min(base, static_cast<double>(policy_.max.count()));
  ++attempt_;
  std::uniform_real_distribution<double> dist(1.0 - policy_.jitter, 1.0 + policy_.jitter);
  double d = std::min(base * dist(rng_), static_cast<double>(policy_.max.count()));
  return Millis(static_cast<std::int64_t>(d));
}

asio::awaitable<void> AsioSleeper::sleep(Millis d) {
  asio::steady_timer t(ex_, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> ManualSleeper::sleep(Millis d) {
  waits_.push_back(d);
  clock_.advance(d);
  co_return;
}

}  // namespace sb::net
