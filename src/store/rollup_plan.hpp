// When each hour of each series is rolled up, as a queue ordered by due time: an hour is due
// at once when it is new or over (a later hour of its series came), the current hour at most
// once a minute after its last roll-up. A batch costs the hours it touched and the hours that
// fell due, not a walk over every series (which took 10 % of the gateway's CPU at 100
// connections and 19 % at 1,000). Shared by the stores; not thread-safe (the writer's own).
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
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
  /// The hours to roll up now (every waiting one when `all`), taken off the plan, in
  /// (series, hour) order.
  std::vector<SeriesHour> take_due(Time now, bool all);
  /// Hours written and not rolled up yet.
  std::size_t waiting() const { return waiting_; }
  /// Puts hours taken by take_due() back, due now: the transaction that rolled them up was
  /// rolled back, and the samples written before it still need their rollups.
  void retry(const std::vector<SeriesHour>& hours, Time now);

 private:
  // A gateway keeps one of these per series it writes (14 a sonnen battery), so it is small:
  // one hash node per series, where four nodes (two maps, a set, a map of newest hours) took
  // about 250 bytes a series.
  struct Series {
    std::int64_t newest = 0;  // its newest hour
    Time due{};               // when the newest hour is due, while it waits
    Time rolled{};            // the newest hour's last roll-up, once it had one
    bool waits = false, was_rolled = false;
  };
  struct Entry {
    Time due;
    SeriesHour hour;
    bool operator>(const Entry& o) const { return due > o.due; }
  };
  /// An hour written (or to be rolled up again, `at_once`).
  void note(const SeriesHour& k, Time now, bool at_once);
  void schedule_newest(Series& s, const SeriesHour& k, Time due);
  void schedule_older(const SeriesHour& k, Time now);
  void push(Time due, const SeriesHour& k);

  std::unordered_map<std::int64_t, Series> series_;
  std::set<SeriesHour> older_;  // hours before their series' newest that wait: due at once
  std::vector<Entry> queue_;    // a min-heap by due time; an entry that no longer holds is skipped
  std::size_t waiting_ = 0;
};

}  // namespace sb::store
