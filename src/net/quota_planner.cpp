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

void QuotaPlanner::share(QuotaLedger& ledger, std::string account, std::string connection,
                         std::function<void(std::function<void()>)> post) {
  std::lock_guard lock(mutex_);
  ledger_ = &ledger;
  account_ = std::move(account);
  connection_ = std::move(connection);
  post_ = std::move(post);
  slices_ = std::make_shared<Slices>();
  roll_locked();
  ask_locked();  // the first calls need not wait for a slice
}

// Small slices: a connection holds at most this many of the account's calls unused (lost to
// the account if the window ends first), and one round trip serves that many calls.
namespace {
int period_slice(int period_calls) {
  return std::clamp(period_calls / 100, 1, 20);
}
int minute_slice(int per_minute) {
  return per_minute <= 0 ? 0 : std::clamp(per_minute / 10, 1, 10);
}
}  // namespace

void QuotaPlanner::ask_locked() const {
  if (!ledger_) return;
  auto s = slices_;
  const bool minute = limits_.per_minute > 0;
  {
    std::lock_guard lock(s->m);
    if (s->asking) return;
    if (s->day != day_) {
      s->day = day_;
      s->period = 0;
    }
    if (s->minute != minute_) {
      s->minute = minute_;
      s->per_minute = 0;
    }
    bool need_period = s->spent_day != day_ && s->period <= period_slice(limits_.period_calls) / 2;
    bool need_minute = minute && s->per_minute <= 0 && s->spent_minute != minute_;
    if (!need_period && !need_minute) return;
    s->asking = true;
  }
  auto* ledger = ledger_;
  auto kind = limits_.period == QuotaPeriod::Day ? "day:" : "month:";
  auto period_window = kind + std::to_string(day_);
  auto minute_window = "minute:" + std::to_string(minute_);
  int want_period = period_slice(limits_.period_calls), limit = limits_.period_calls;
  int want_minute = minute_slice(limits_.per_minute), per_minute = limits_.per_minute;
  std::int64_t day = day_, min = minute_;
  post_([s, ledger, account = account_, connection = connection_, period_window, minute_window,
         want_period, limit, want_minute, per_minute, day, min] {
    std::optional<QuotaLedger::Grant> p, m;
    std::string error;
    bool need_period, need_minute;
    {
      std::lock_guard lock(s->m);
      need_period = s->spent_day != day && s->period <= want_period / 2;
      need_minute =
          want_minute > 0 && s->per_minute <= 0 && s->spent_day != day && s->spent_minute != min;
    }
    if (need_period) {
      auto r = ledger->reserve(account, period_window, connection, want_period, limit);
      if (r)
        p = *r;
      else
        error = r.error().message;
    }
    // A minute's calls are asked for only while the period has some (a minute slice alone
    // would be wasted), and not after the period's reservation failed.
    if (need_minute && error.empty() && (!p || p->granted > 0)) {
      auto r = ledger->reserve(account, minute_window, connection, want_minute, per_minute);
      if (r)
        m = *r;
      else
        error = r.error().message;
    }
    std::lock_guard lock(s->m);
    s->asking = false;
    s->error = error;
    if (p && s->day == day) {
      s->period += p->granted;
      if (p->granted == 0) s->spent_day = day;
      // This connection's fair part of what the account has left, for pacing.
      s->fair_left = std::max(0, p->limit - p->used) / std::max(1, p->sharers) + s->period;
    }
    if (m && s->minute == min) {
      s->per_minute += m->granted;
      if (m->granted == 0) s->spent_minute = min;
    }
  });
}

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

// The calls this connection plans its period with: its own limit, or, when the account is
// shared, what it has used plus its fair part of what the account has left (as last heard),
// so that its shares (live, background, the command reserve) and its pacing fit the account.
int QuotaPlanner::calls_locked() const {
  if (!ledger_) return limits_.period_calls;
  std::lock_guard lock(slices_->m);
  if (slices_->day != day_ || !slices_->fair_left) return limits_.period_calls;
  return std::min(limits_.period_calls, used_ + *slices_->fair_left);
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
  if (ledger_) {
    // The account's minute is spent (by all its connections): the next one.
    std::lock_guard lock(slices_->m);
    if (slices_->spent_minute == minute_) wait = Millis((minute_ + 1) * 60'000 - to_ms(now));
  }
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
  if (ledger_) {
    // The account's share: a reserved call of the period (and of the minute) or none at all.
    ask_locked();
    std::lock_guard lock(slices_->m);
    const bool minute = limits_.per_minute > 0;
    if (slices_->day != day_ || slices_->period <= 0) return false;
    if (minute && (slices_->minute != minute_ || slices_->per_minute <= 0)) return false;
    --slices_->period;
    if (slices_->fair_left && *slices_->fair_left > 0) --*slices_->fair_left;
    if (minute) --slices_->per_minute;
  }
  ++used_;
  if (purpose == CallPurpose::Live) ++live_used_;
  ++minute_used_;
  last_[interface] = now;
  return true;
}

// Each purpose keeps to its share: live data to the live share, background work to its own
// (what live data leaves unused is kept for it until the period ends), commands to all.
bool QuotaPlanner::room_locked(CallPurpose purpose) const {
  int reserve = int(std::ceil(calls_locked() * limits_.command_reserve));
  int live = cap_locked(CallPurpose::Live);
  switch (purpose) {
    case CallPurpose::Command:
      return used_ < calls_locked();
    case CallPurpose::Background:
      return used_ < calls_locked() - reserve - std::max(0, live - live_used_);
    case CallPurpose::Live:
      break;
  }
  return live_used_ < live && used_ < calls_locked() - reserve;
}

int QuotaPlanner::cap_locked(CallPurpose purpose) const {
  // Commands may use everything; background work all but the reserve; live data leaves the
  // background share too, so history and counters are never starved by polling.
  int reserve = int(std::ceil(calls_locked() * limits_.command_reserve));
  int background = int(std::ceil(calls_locked() * limits_.background_share));
  switch (purpose) {
    case CallPurpose::Command:
      return calls_locked();
    case CallPurpose::Background:
      return calls_locked() - reserve;
    case CallPurpose::Live:
      break;
  }
  return calls_locked() - reserve - background;
}

Millis QuotaPlanner::live_interval(int calls_per_refresh, Millis floor) const {
  std::lock_guard lock(mutex_);
  roll_locked();
  double left_ms = double(period_start_ms(day_ + 1) - to_ms(clock_.now()));
  // What live data may still use today, spent evenly over what is left of the day.
  int reserve = int(std::ceil(calls_locked() * limits_.command_reserve));
  double live_left = double(
      std::min(cap_locked(CallPurpose::Live) - live_used_, calls_locked() - reserve - used_));
  if (exhausted_ || live_left < calls_per_refresh) return Millis(std::int64_t(left_ms) + 1000);
  auto gap = Millis(std::int64_t(std::ceil(left_ms * calls_per_refresh / live_left)));
  return std::max({gap, floor, limits_.query_gap});
}

bool QuotaPlanner::live_due(std::optional<TimePoint> last, int calls_per_refresh,
                            Millis floor) const {
  {
    std::lock_guard lock(mutex_);
    roll_locked();
    int reserve = int(std::ceil(calls_locked() * limits_.command_reserve));
    int left =
        std::min(cap_locked(CallPurpose::Live) - live_used_, calls_locked() - reserve - used_);
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

void QuotaPlanner::answered(const std::string& interface, Millis hold) {
  std::lock_guard lock(mutex_);
  auto now = clock_.now() + hold;
  auto& last = last_[interface];
  if (last < now) last = now;
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
  return exhausted_ ? 0 : std::max(0, calls_locked() - used_);
}

bool QuotaPlanner::waiting_for_ledger() const {
  std::lock_guard lock(mutex_);
  if (!ledger_) return false;
  roll_locked();
  ask_locked();
  std::lock_guard slock(slices_->m);
  if (slices_->spent_day == day_ || !slices_->error.empty()) return false;
  bool none = slices_->day != day_ || slices_->period <= 0;
  bool no_minute =
      limits_.per_minute > 0 && (slices_->minute != minute_ || slices_->per_minute <= 0);
  return none || no_minute;
}

std::string QuotaPlanner::ledger_error() const {
  std::lock_guard lock(mutex_);
  if (!ledger_) return {};
  std::lock_guard slock(slices_->m);
  return slices_->error;
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
