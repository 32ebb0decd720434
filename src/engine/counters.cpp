#include "engine/counters.hpp"

#include <algorithm>
#include <cmath>

#include "core/metric.hpp"
#include "net/blocking.hpp"

namespace sb::engine {

namespace asio = boost::asio;

double CounterTrack::reset_threshold(double last_raw) {
  return std::max(100.0, 0.01 * std::abs(last_raw));
}

CounterTrack::Step CounterTrack::next(double raw) {
  if (last_raw && raw < *last_raw - reset_threshold(*last_raw)) {
    offset += *last_raw;  // counting started again from zero
    last_raw = raw;
    last_out = raw + offset;
    return {*last_out, true, false};
  }
  double out = raw + offset;
  if (last_out && out < *last_out) return {*last_out, false, true};  // rounding, not a reset
  last_raw = raw;
  last_out = out;
  return {out, false, false};
}

void fit_between(const std::vector<double*>& values, std::optional<double> before,
                 std::optional<double> after) {
  std::optional<double> run = before;
  std::optional<double> top = after;
  if (top && run && *top < *run) top = run;  // the stored values disagree: hold the earlier
  for (double* v : values) {
    if (run) *v = std::max(*v, *run);
    if (top) *v = std::min(*v, *top);
    run = *v;
  }
}

bool is_counter(const Name& metric) {
  const auto* def = metric_def(metric);
  return def && def->kind == MetricKind::Counter;
}

struct CounterGuard::Impl : std::enable_shared_from_this<Impl> {
  store::Store& store;
  asio::thread_pool& pool;
  struct Entry {
    CounterTrack track;
    std::vector<store::CounterReset> resets;
    std::optional<TimePoint> newest;  // the time of the last reading the track took
    double offset_at(TimePoint t) const {
      double offset = 0;
      for (const auto& r : resets)
        if (r.time <= t) offset = r.offset;
      return offset;
    }
  };
  store::SeriesMap<Entry> counters;

  // The counter's state when it is known already: the steady state, no coroutine started.
  Entry* known(const Sample& s) {
    auto it = counters.find({s.device, s.metric});
    return it == counters.end() ? nullptr : &it->second;
  }

  Impl(store::Store& s, asio::thread_pool& p) : store(s), pool(p) {}

  // The counter's state, from the store the first time: its resets and its newest value.
  asio::awaitable<Entry*> entry(Name device, Name metric) {
    auto self = shared_from_this();
    store::SeriesKey key{device, metric};
    if (auto it = counters.find(key); it != counters.end()) co_return &it->second;
    auto op = net::run_blocking(pool, [this, device, metric] {
      Entry e;
      if (auto r = store.counter_resets(device, metric)) e.resets = *r;
      if (!e.resets.empty()) e.track.offset = e.resets.back().offset;
      auto newest = store.sample_at_or_before(device, metric, from_ms(INT64_MAX / 2));
      if (newest && *newest) {
        e.track.last_out = (*newest)->value;
        e.track.last_raw = (*newest)->value - e.track.offset;
        e.newest = (*newest)->time;
      }
      return e;
    });
    auto e = co_await std::move(op);
    co_return &(counters[key] = std::move(e));
  }

  asio::awaitable<std::vector<store::CounterReset>> adjust(std::vector<Sample>& samples) {
    auto self = shared_from_this();
    std::vector<store::CounterReset> found;
    for (auto& s : samples) {
      if (!is_counter(s.metric) || s.quality != Quality::Measured) continue;
      Entry* e = known(s);
      if (!e) {
        auto eop = entry(s.device, s.metric);
        e = co_await std::move(eop);
      }
      // A reading no newer than the last one (a cloud that hands out the day's slots again
      // after a restart) is history, not a fall: the offset of its time, held only at the
      // stored reading before it, and the track stays. Held at the newest value, it flattened
      // the day's counter up to the restart.
      if (e->newest && s.time <= *e->newest) {
        s.value += e->offset_at(s.time);
        auto op = net::run_blocking(pool, [this, d = s.device, m = s.metric, t = s.time] {
          return store.sample_at_or_before(d, m, t - Millis(1));
        });
        auto prior = co_await std::move(op);
        if (prior && *prior && (*prior)->value > s.value &&
            (*prior)->value - s.value <= CounterTrack::reset_threshold((*prior)->value))
          s.value = (*prior)->value;
        continue;
      }
      e->newest = s.time;
      auto before = e->track.last_raw.value_or(0);
      auto step = e->track.next(s.value);
      if (step.reset) {
        store::CounterReset r{s.device, s.metric, s.time, e->track.offset, before, s.value};
        e->resets.push_back(r);
        found.push_back(r);
      }
      s.value = step.value;
    }
    if (!found.empty()) {
      auto op = net::run_blocking(pool, [this, found] {
        for (const auto& r : found) (void)store.add_counter_reset(r);
        return 0;
      });
      (void)co_await std::move(op);
    }
    co_return found;
  }

  asio::awaitable<void> adjust_history(std::vector<Sample>& samples) {
    auto self = shared_from_this();
    for (auto& s : samples) {
      if (!is_counter(s.metric)) continue;
      Entry* e = known(s);
      if (!e) {
        auto eop = entry(s.device, s.metric);
        e = co_await std::move(eop);
      }
      s.value += e->offset_at(s.time);
    }
  }
};

CounterGuard::CounterGuard(store::Store& store, asio::thread_pool& blocking)
    : impl_(std::make_shared<Impl>(store, blocking)) {}

asio::awaitable<std::vector<store::CounterReset>> CounterGuard::adjust(
    std::vector<Sample>& samples) {
  auto op = impl_->adjust(samples);
  co_return co_await std::move(op);
}

asio::awaitable<void> CounterGuard::adjust_history(std::vector<Sample>& samples) {
  auto op = impl_->adjust_history(samples);
  co_await std::move(op);
}

}  // namespace sb::engine
