#include "store/rollup_plan.hpp"

#include <algorithm>

namespace sb::store {

void RollupPlan::push(Time due, const SeriesHour& k) {
  queue_.push_back({due, k});
  std::push_heap(queue_.begin(), queue_.end(), std::greater<>());
}

void RollupPlan::schedule_newest(Series& s, const SeriesHour& k, Time due) {
  if (s.waits && s.due <= due) return;  // already due sooner
  if (!s.waits) ++waiting_;
  s.waits = true;
  s.due = due;
  push(due, k);
}

void RollupPlan::schedule_older(const SeriesHour& k, Time now) {
  if (!older_.insert(k).second) return;  // waits already, due at once
  ++waiting_;
  push(now, k);
}

void RollupPlan::note(const SeriesHour& k, Time now, bool at_once) {
  auto [it, fresh] = series_.try_emplace(k.series);
  auto& s = it->second;
  if (fresh) {
    s.newest = k.hour;
  } else if (k.hour > s.newest) {
    // The series moved on: its previous hour is over, and due now if it waits.
    if (s.waits) {
      s.waits = false;
      --waiting_;
      schedule_older({k.series, s.newest}, now);
    }
    s.was_rolled = false;
    s.newest = k.hour;
  }
  if (k.hour < s.newest)
    schedule_older(k, now);
  else
    schedule_newest(s, k, s.was_rolled && !at_once ? s.rolled + kCurrentHourEvery : now);
}

void RollupPlan::touched(const std::vector<SeriesHour>& hours, Time now) {
  for (const auto& k : hours) note(k, now, false);
}

std::vector<SeriesHour> RollupPlan::take_due(Time now, bool all) {
  std::vector<SeriesHour> out;
  while (!queue_.empty() && (all || queue_.front().due <= now)) {
    std::pop_heap(queue_.begin(), queue_.end(), std::greater<>());
    const Entry e = queue_.back();
    queue_.pop_back();
    auto it = series_.find(e.hour.series);
    if (it != series_.end() && e.hour.hour == it->second.newest) {
      auto& s = it->second;
      if (!s.waits || s.due != e.due) continue;  // taken, or due sooner by a later entry
      s.waits = false;
      --waiting_;
      s.was_rolled = true;
      s.rolled = now;
    } else {
      if (older_.erase(e.hour) == 0) continue;  // taken already
      --waiting_;
    }
    out.push_back(e.hour);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void RollupPlan::retry(const std::vector<SeriesHour>& hours, Time now) {
  for (const auto& k : hours) note(k, now, true);
}

}  // namespace sb::store
