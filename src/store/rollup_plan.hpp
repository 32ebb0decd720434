// When each hour of each series is rolled up, as a queue ordered by due time: an hour is due
// at once when it is new or over (a later hour of its series came), the current hour at most
// once a minute after its last roll-up. A batch costs the hours it touched and the hours that
// fell due, not a walk over every series (which took 10 % of the gateway's CPU at 100
// connections and 19 % at 1,000). Shared by the stores; not thread-safe (the writer's own).
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sb::store {

struct SeriesHour {
  std::int64_t series = 0;
  std::int64_t hour = 0;  ///< UTC milliseconds of the hour's start
  auto operator<=>(const SeriesHour&) const = default;
};

/// The (series, hour) pairs of rows sorted by (series, t), each once.
template <class Rows>
std::vector<SeriesHour> hours_of(const Rows& rows) {
  constexpr std::int64_t kHourMs = 3'600'000;
  std::vector<SeriesHour> out;
  for (const auto& r : rows) {
    auto hour = r.t - ((r.t % kHourMs) + kHourMs) % kHourMs;
    if (out.empty() || out.back().series != r.series || out.back().hour != hour)
      out.push_back({r.series, hour});
  }
  return out;
}

class RollupPlan {
 public:
  using Time = std::chrono::steady_clock::time_point;
  static constexpr std::chrono::minutes kCurrentHourEvery{1};

  /// Notes the hours a batch wrote.
  void touched(const std::vector<SeriesHour>& hours, Time now);
  /// The hours to roll up now (every waiting one when `all`), taken off the plan.
  std::vector<SeriesHour> take_due(Time now, bool all);
  /// Hours written and not rolled up yet.
  std::size_t waiting() const { return due_at_.size(); }
  /// Puts hours taken by take_due() back, due now: the transaction that rolled them up was
  /// rolled back, and the samples written before it still need their rollups.
  void retry(const std::vector<SeriesHour>& hours, Time now);

 private:
  struct Hash {
    std::size_t operator()(const SeriesHour& k) const noexcept {
      return std::hash<std::int64_t>()(k.series * 1'000'003 ^ k.hour);
    }
  };
  void schedule(const SeriesHour& k, Time due);

  std::unordered_map<SeriesHour, Time, Hash> due_at_;      // waiting hours and when they are due
  std::set<std::pair<Time, SeriesHour>> queue_;            // the same, by due time
  std::unordered_map<SeriesHour, Time, Hash> rolled_;      // current hours: their last roll-up
  std::unordered_map<std::int64_t, std::int64_t> newest_;  // per series, its newest hour
};

}  // namespace sb::store
