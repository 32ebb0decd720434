// Exponential backoff with jitter, and an async retry loop that waits through a Sleeper, so a
// test on a ManualClock runs a minute of retries in microseconds.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <random>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace sb::net {

namespace asio = boost::asio;

struct BackoffPolicy {
  Millis initial{500};
  Millis max{60'000};
  double multiplier = 2.0;
  double jitter = 0.2;   ///< each delay is scaled by a factor in [1 - jitter, 1 + jitter]
  int max_attempts = 5;  ///< attempts in all, the first included
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy, std::uint64_t seed = std::random_device{}());
  /// The delay before the next attempt; grows until `max`.
  Millis next();
  void reset() { attempt_ = 0; }
  int failures() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  int attempt_ = 0;
  // SplitMix64: 8 bytes of state, plenty for jitter. Every connection's loop keeps a Backoff,
  // and a Mersenne Twister's 2.5 KB was most of that loop's frame.
  std::uint64_t state_;
};

/// How a retry loop waits.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual asio::awaitable<void> sleep(Millis d) = 0;
};

/// Waits on an asio timer; with a clock, the waits are that clock's time (a gateway on an
/// accelerated clock backs off in simulated seconds).
class AsioSleeper final : public Sleeper {
 public:
  explicit AsioSleeper(asio::any_io_executor ex, const Clock* clock = nullptr)
      : ex_(std::move(ex)), clock_(clock) {}
  asio::awaitable<void> sleep(Millis d) override;

 private:
  asio::any_io_executor ex_;
  const Clock* clock_;
};

/// Advances a ManualClock instead of waiting; records the waits.
class ManualSleeper final : public Sleeper {
 public:
  explicit ManualSleeper(ManualClock& clock) : clock_(clock) {}
  asio::awaitable<void> sleep(Millis d) override;
  const std::vector<Millis>& waits() const { return waits_; }

 private:
  ManualClock& clock_;
  std::vector<Millis> waits_;
};

/// Runs `op` until it succeeds, fails with a non-transient error, or attempts run out.
/// A RateLimited error's retry_after is honoured when longer than the backoff.
template <class Op>
auto retry(Op op, BackoffPolicy policy, Sleeper& sleeper, std::uint64_t seed = 1)
    -> decltype(op()) {
  Backoff backoff(policy, seed);
  for (int attempt = 1;; ++attempt) {
    auto result = co_await op();
    if (result || !result.error().transient() || attempt >= policy.max_attempts) co_return result;
    Millis wait = backoff.next();
    if (result.error().retry_after) wait = std::max<Millis>(wait, *result.error().retry_after);
    co_await sleeper.sleep(wait);
  }
}

}  // namespace sb::net
