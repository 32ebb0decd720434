#include "engine/quota_planner.hpp"

#include <algorithm>
#include <cmath>

namespace sb::engine {

namespace {
constexpr std::int64_t kDayMs = 86'400'000;
}

QuotaPlanner::QuotaPlanner(const Clock& clock, QuotaLimits limits)
    : clock_(clock), limits_(limits) {}

void QuotaPlanner::roll_locked() const {
  auto day = (to_ms(clock_.now()) - limits_.day_offset.count()) / kDayMs;
  if (day != day_) {
    day_ = day;
    used_ = 0;
    exhausted_ = false;
  }
}

void QuotaPlanner::set_daily_calls(int calls) {
  std::lock_guard lock(mutex_);
  limits_.daily_calls = std::max(0, calls);
}

Millis QuotaPlanner::pacing_wait(const std::string& interface, bool write) const {
  std::lock_guard lock(mutex_);
  auto it = last_.find(interface);
  if (it == last_.end()) return Millis(0);
  auto gap = write ? limits_.write_gap : limits_.query_gap;
  auto ready = it->second + gap;
  auto now = clock_.now();
  return ready > now ? std::chrono::duration_cast<Millis>(ready - now) : Millis(0);
}

bool QuotaPlanner::try_take(const std::string& interface, CallPurpose purpose, bool write) {
  std::lock_guard lock(mutex_);
  roll_locked();
  if (exhausted_) return false;
  auto now = clock_.now();
  auto gap = write ? limits_.write_gap : limits_.query_gap;
  if (auto it = last_.find(interface); it != last_.end() && now - it->second < gap) return false;
  if (used_ >= cap_locked(purpose)) return false;
  ++used_;
  last_[interface] = now;
  return true;
}

int QuotaPlanner::cap_locked(CallPurpose purpose) const {
  // Commands may use everything; background work all but the reserve; live data leaves the
  // background share too, so history and counters are never starved by polling.
  int reserve = int(std::ceil(limits_.daily_calls * limits_.command_reserve));
  int background = int(std::ceil(limits_.daily_calls * limits_.background_share));
  switch (purpose) {
    case CallPurpose::Command:
      return limits_.daily_calls;
    case CallPurpose::Background:
      return limits_.daily_calls - reserve;
    case CallPurpose::Live:
      break;
  }
  return limits_.daily_calls - reserve - background;
}

Millis QuotaPlanner::live_interval(int calls_per_refresh, Millis floor) const {
  std::lock_guard lock(mutex_);
  roll_locked();
  auto now = to_ms(clock_.now()) - limits_.day_offset.count();
  double left_ms = double(kDayMs - (now - day_ * kDayMs));
  // What live data may still use today, spent evenly over what is left of the day.
  double live_left = double(cap_locked(CallPurpose::Live) - used_);
  if (exhausted_ || live_left < calls_per_refresh) return Millis(std::int64_t(left_ms) + 1000);
  auto gap = Millis(std::int64_t(std::ceil(left_ms * calls_per_refresh / live_left)));
  return std::max({gap, floor, limits_.query_gap});
}

void QuotaPlanner::observe_remaining(int remaining) {
  std::lock_guard lock(mutex_);
  roll_locked();
  used_ = std::max(used_, limits_.daily_calls - remaining);
}

void QuotaPlanner::on_refused(const std::string& interface, bool daily) {
  std::lock_guard lock(mutex_);
  roll_locked();
  if (daily)
    exhausted_ = true;
  else
    last_[interface] = clock_.now();
}

int QuotaPlanner::used() const {
  std::lock_guard lock(mutex_);
  roll_locked();
  return used_;
}

int QuotaPlanner::left() const {
  std::lock_guard lock(mutex_);
  roll_locked();
  return exhausted_ ? 0 : std::max(0, limits_.daily_calls - used_);
}

int QuotaPlanner::daily_calls() const {
  std::lock_guard lock(mutex_);
  return limits_.daily_calls;
}

TimePoint QuotaPlanner::next_reset() const {
  std::lock_guard lock(mutex_);
  roll_locked();
  return from_ms((day_ + 1) * kDayMs + limits_.day_offset.count());
}

}  // namespace sb::engine
