#include "store/rollup_plan.hpp"

namespace sb::store {

void RollupPlan::schedule(const SeriesHour& k, Time due) {
  auto [it, fresh] = due_at_.try_emplace(k, due);
  if (!fresh) {
    if (it->second <= due) return;  // already due sooner
    queue_.erase({it->second, k});
    it->second = due;
  }
  queue_.insert({due, k});
}

void RollupPlan::touched(const std::vector<SeriesHour>& hours, Time now) {
  for (const auto& k : hours) {
    auto [newest, fresh] = newest_.try_emplace(k.series, k.hour);
    if (!fresh && k.hour > newest->second) {
      // The series moved on: its previous hour is over, and due now if it waits.
      SeriesHour previous{k.series, newest->second};
      rolled_.erase(previous);
      if (due_at_.contains(previous)) schedule(previous, now);
      newest->second = k.hour;
    }
    Time due = now;
    if (k.hour == newest->second)
      if (auto r = rolled_.find(k); r != rolled_.end()) due = r->second + kCurrentHourEvery;
    schedule(k, due);
  }
}

std::vector<SeriesHour> RollupPlan::take_due(Time now, bool all) {
  std::vector<SeriesHour> out;
  while (!queue_.empty() && (all || queue_.begin()->first <= now)) {
    auto k = queue_.begin()->second;
    queue_.erase(queue_.begin());
    due_at_.erase(k);
    if (k.hour < newest_[k.series])
      rolled_.erase(k);
    else
      rolled_[k] = now;
    out.push_back(k);
  }
  return out;
}

void RollupPlan::retry(const std::vector<SeriesHour>& hours, Time now) {
  for (const auto& k : hours) schedule(k, now);
}

}  // namespace sb::store
