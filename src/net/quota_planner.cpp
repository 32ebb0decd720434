#include "net/quota_planner.hpp"

#include <algorithm>
#include <cmath>

namespace sb::net {

namespace {
constexpr std::int64_t kDayMs = 86'400'000;
}

std::int64_t QuotaPlanner::period_start_ms(std::int64_t index) const {
  if (limits_.period == QuotaPeriod::Day) return index * kDayMs + limits_.day_offset.count();
  using namespace std::chrono;
  auto ym = year_month{year{1970}, month{1}} + months(index);
  return duration_cast<Millis>(sys_days(ym / 1).time_since_epoch()).count();
}

QuotaPlanner::QuotaPlanner(const Clock& clock, QuotaLimits limits)
    : clock_(clock), limits_(limits) {}

void QuotaPlanner::roll_locked() const {
  using namespace std::chrono;
  auto now = to_ms(clock_.now());
  std::int64_t index;
  if (limits_.period == QuotaPeriod::Day) {
    index = (now - limits_.day_offset.count()) / kDayMs;
  } else {
    year_month_day ymd{floor<days>(clock_.now())};
    index = (int(ymd.year()) - 1970) * 12 + (unsigned(ymd.month()) - 1);
  }
  if (index != day_) {
    day_ = index;
    used_ = 0;
    live_used_ = 0;
    exhausted_ = false;
  }
  if (now / 60'000 != minute_) {
    minute_ = now / 60'000;
    minute_used_ = 0;
  }
}

void QuotaPlanner::set_period_calls(int calls) {
  std::lock_guard lock(mutex_);
  limits_.period_calls = std::max(0, calls);
}

void QuotaPlanner::set_per_minute(int calls) {
  std::lock_guard lock(mutex_);
  limits_.per_minute = std::max(0, calls);
}

Millis QuotaPlanner::pacing_wait(const std::string& interface, bool write) const {
  std::lock_guard lock(mutex_);
  roll_locked();
  auto now = clock_.now();
  Millis wait(0);
  if (limits_.per_minute > 0 && minute_used_ >= limits_.per_minute)
    wait = Millis((minute_ + 1) * 60'000 - to_ms(now));
  auto it = last_.find(interface);
  if (it == last_.end()) return wait;
  auto gap = write ? limits_.write_gap : limits_.query_gap;
  auto ready = it->second + gap;
  return std::max(wait, ready > now ? std::chrono::duration_cast<Millis>(ready - now) : Millis(0));
}

bool QuotaPlanner::try_take(const std::string& interface, CallPurpose purpose, bool write) {
  std::lock_guard lock(mutex_);
  roll_locked();
  if (exhausted_) return false;
  auto now = clock_.now();
  auto gap = write ? limits_.write_gap : limits_.query_gap;
  if (auto it = last_.find(interface); it != last_.end() && now - it->second < gap) return false;
  if (!room_locked(purpose)) return false;
  if (limits_.per_minute > 0 && minute_used_ >= limits_.per_minute) return false;
  ++used_;
  if (purpose == CallPurpose::Live) ++live_used_;
  ++minute_used_;
  last_[interface] = now;
  return true;
}

// Each purpose keeps to its share: live data to the live share, background work to its own
// (what live data leaves unused is kept for it until the period ends), commands to all.
bool QuotaPlanner::room_locked(CallPurpose purpose) const {
  int reserve = int(std::ceil(limits_.period_calls * limits_.command_reserve));
  int live = cap_locked(CallPurpose::Live);
  switch (purpose) {
    case CallPurpose::Command:
      return used_ < limits_.period_calls;
    case CallPurpose::Background:
      return used_ < limits_.period_calls - reserve - std::max(0, live - live_used_);
    case CallPurpose::Live:
      break;
  }
  return live_used_ < live && used_ < limits_.period_calls - reserve;
}

int QuotaPlanner::cap_locked(CallPurpose purpose) const {
  // Commands may use everything; background work all but the reserve; live data leaves the
  // background share too, so history and counters are never starved by polling.
  int reserve = int(std::ceil(limits_.period_calls * limits_.command_reserve));
  int background = int(std::ceil(limits_.period_calls * limits_.background_share));
  switch (purpose) {
    case CallPurpose::Command:
      return limits_.period_calls;
    case CallPurpose::Background:
      return limits_.period_calls - reserve;
    case CallPurpose::Live:
      break;
  }
  return limits_.period_calls - reserve - background;
}

Millis QuotaPlanner::live_interval(int calls_per_refresh, Millis floor) const {
  std::lock_guard lock(mutex_);
  roll_locked();
  double left_ms = double(period_start_ms(day_ + 1) - to_ms(clock_.now()));
  // What live data may still use today, spent evenly over what is left of the day.
  int reserve = int(std::ceil(limits_.period_calls * limits_.command_reserve));
  double live_left = double(
      std::min(cap_locked(CallPurpose::Live) - live_used_, limits_.period_calls - reserve - used_));
  if (exhausted_ || live_left < calls_per_refresh) return Millis(std::int64_t(left_ms) + 1000);
  auto gap = Millis(std::int64_t(std::ceil(left_ms * calls_per_refresh / live_left)));
  return std::max({gap, floor, limits_.query_gap});
}

bool QuotaPlanner::live_due(std::optional<TimePoint> last, int calls_per_refresh,
                            Millis floor) const {
  {
    std::lock_guard lock(mutex_);
    roll_locked();
    int reserve = int(std::ceil(limits_.period_calls * limits_.command_reserve));
    int left = std::min(cap_locked(CallPurpose::Live) - live_used_,
                        limits_.period_calls - reserve - used_);
    if (exhausted_ || left < calls_per_refresh) return false;
  }
  return !last || clock_.now() - *last >= live_interval(calls_per_refresh, floor);
}

void QuotaPlanner::observe_remaining(int remaining) {
  std::lock_guard lock(mutex_);
  roll_locked();
  used_ = std::max(used_, limits_.period_calls - remaining);
}

void QuotaPlanner::on_refused(const std::string& interface, bool daily) {
  std::lock_guard lock(mutex_);
  roll_locked();
  if (daily)
    exhausted_ = true;
  else
    last_[interface] = clock_.now();
}

void QuotaPlanner::on_minute_refused() {
  std::lock_guard lock(mutex_);
  roll_locked();
  // The calls that went through this minute (the refused one was counted too) are the most
  // the minute takes, as far as we know.
  int seen = minute_used_ - 1;
  if (seen > 0 && (limits_.per_minute == 0 || seen < limits_.per_minute)) limits_.per_minute = seen;
  minute_used_ = std::max(minute_used_, std::max(1, limits_.per_minute));
}

int QuotaPlanner::used() const {
  std::lock_guard lock(mutex_);
  roll_locked();
  return used_;
}

int QuotaPlanner::left() const {
  std::lock_guard lock(mutex_);
  roll_locked();
  return exhausted_ ? 0 : std::max(0, limits_.period_calls - used_);
}

int QuotaPlanner::period_calls() const {
  std::lock_guard lock(mutex_);
  return limits_.period_calls;
}

int QuotaPlanner::minute_used() const {
  std::lock_guard lock(mutex_);
  roll_locked();
  return minute_used_;
}

int QuotaPlanner::per_minute() const {
  std::lock_guard lock(mutex_);
  return limits_.per_minute;
}

TimePoint QuotaPlanner::next_reset() const {
  std::lock_guard lock(mutex_);
  roll_locked();
  return from_ms(period_start_ms(day_ + 1));
}

}  // namespace sb::net
