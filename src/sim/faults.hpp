// Fault plans for simulators: latency, error responses, dropped connections, malformed bodies,
// drawn from a seeded generator so a failing test can be replayed.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace sb::sim {

struct FaultSpec {
  Millis latency{0};          ///< added to every response
  Millis latency_jitter{0};   ///< plus a uniform 0..jitter
  double error_rate = 0;      ///< share of requests answered with the vendor's internal error
  double drop_rate = 0;       ///< share of connections closed without an answer
  double malformed_rate = 0;  ///< share of responses with a truncated / corrupt body
  std::uint64_t seed = 1;
  bool any() const {
    return latency.count() || latency_jitter.count() || error_rate > 0 || drop_rate > 0 ||
           malformed_rate > 0;
  }
};

/// Parses "latency=200ms,jitter=50ms,error=0.1,drop=0.05,malformed=0.02,seed=7"; durations take
/// ms or s; rates are 0..1. Empty text is no faults. Errors name the bad item.
Result<FaultSpec> parse_fault_spec(std::string_view text);
std::string to_string(const FaultSpec& spec);

enum class FaultAction { None, Error, Drop, Malformed };

/// Thread-safe draw of what to do with the next request.
class FaultInjector {
 public:
  explicit FaultInjector(FaultSpec spec = {}) : spec_(spec), rng_(spec.seed) {}
  void set(FaultSpec spec);
  FaultSpec spec() const;
  FaultAction next();
  Millis latency();

 private:
  mutable std::mutex mutex_;
  FaultSpec spec_;
  std::mt19937_64 rng_;
};

}  // namespace sb::sim
