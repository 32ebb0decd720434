#include "engine/backfill.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/metric.hpp"
#include "engine/quality.hpp"
#include "net/blocking.hpp"

namespace sb::engine {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {
constexpr Millis kChunk = hours(24);  // history asked for per step
constexpr int kMaxAttempts = 6;       // failed history calls before a gap is given up
constexpr Millis kMaxRetryDelay = hours(1);
constexpr Millis kHour = hours(1);

}  // namespace

Millis gap_threshold(Millis poll_interval, Millis data_interval) {
  return std::max(Millis(60'000), 3 * std::max(poll_interval, data_interval));
}

bool tracked_metric(const Name& metric) {
  return metric != metric::kDeviceOnline && metric_def(metric) != nullptr;
}

std::vector<TimeRange> uncovered(std::vector<TimePoint> times, TimeRange range, Millis tolerance) {
  times.erase(std::remove_if(times.begin(), times.end(),
                             [&](TimePoint t) { return t <= range.from || t >= range.to; }),
              times.end());
  std::sort(times.begin(), times.end());
  std::vector<TimeRange> out;
  TimePoint prev = range.from;
  times.push_back(range.to);
  for (auto t : times) {
    if (t - prev > tolerance) out.push_back({prev, t});
    prev = t;
  }
  return out;
}

Millis history_tolerance(std::string_view metric, Millis history_step, Millis threshold) {
  Millis step = history_step.count() > 0 ? history_step : Millis(minutes(15));
  Millis t = std::max(threshold, step * 5 / 2);
  if (is_counter(metric)) t = std::max(t, Millis(minutes(90)));
  return t;
}

std::vector<Sample> interpolate_counter(const std::string& device, const std::string& metric,
                                        TimePoint t0, double v0, TimePoint t1, double v1) {
  std::vector<Sample> out;
  if (t1 <= t0 || v1 < v0 || !std::isfinite(v0) || !std::isfinite(v1)) return out;
  auto span = static_cast<double>((t1 - t0).count());
  for (auto t = floor<hours>(t0) + kHour; t < t1; t += kHour) {
    if (t <= t0) continue;
    double f = static_cast<double>((t - t0).count()) / span;
    out.push_back({device, metric, t, v0 + (v1 - v0) * f, Quality::Estimated});
  }
  return out;
}

struct Backfiller::Impl : std::enable_shared_from_this<Impl> {
  Deps deps;
  std::map<std::string, TimePoint> last;       // device -> time of its newest value
  std::map<std::string, std::string> failing;  // device -> why its polls fail
  // device -> the metrics its polls give, sorted; written only when they change, since a
  // gateway keeps one per device and a poll that rebuilt it allocated a node per metric
  std::map<std::string, std::vector<Name>> expected;
  std::set<std::string> restarted;  // devices whose last value is from before this start
  std::vector<Gap> open;            // this connection's gaps waiting for backfill
  std::vector<Gap> unrecorded;      // gaps of dropped samples the store has not taken yet
  mutable std::mutex mutex;         // stats
  BackfillStats counters;

  explicit Impl(Deps d) : deps(d) {}

  template <class F>
  auto blocking(F f) {
    return net::run_blocking(deps.blocking, std::move(f));
  }

  // Backfilled counter readings of the gap [from, to], fitted between the stored values
  // around them (engine/counters.hpp fit_between): the reading the gap starts after, or one
  // an earlier chunk backfilled, and the reading it ends at. Estimates of an earlier pass are
  // no bound: these readings replace them. On the blocking pool.
  void fit_counters(std::vector<Sample>& samples, TimePoint from, TimePoint to) {
    std::map<std::pair<std::string, std::string>, std::vector<Sample*>> series;
    for (auto& s : samples)
      if (is_counter(s.metric)) series[{s.device, s.metric}].push_back(&s);
    auto bound = [](const Result<std::optional<store::SeriesPoint>>& p) {
      return p && *p && (*p)->quality != Quality::Estimated ? std::optional<double>((*p)->value)
                                                            : std::nullopt;
    };
    for (auto& [key, list] : series) {
      std::sort(list.begin(), list.end(),
                [](const Sample* a, const Sample* b) { return a->time < b->time; });
      auto before = bound(deps.store.sample_at_or_before(key.first, key.second, from));
      auto earlier = bound(
          deps.store.sample_at_or_before(key.first, key.second, list.front()->time - Millis(1)));
      if (earlier) before = std::max(before.value_or(*earlier), *earlier);
      auto after = bound(deps.store.sample_at_or_after(key.first, key.second, to));
      std::vector<double*> values;
      for (auto* s : list) values.push_back(&s->value);
      fit_between(values, before, after);
    }
  }

  // A hole shorter than the vendor's history step is expected (a restart of a minute), not a
  // gap: nothing could fill it, and recording it gave a row per metric for each restart.
  Millis threshold(const DeviceInfo& d) const {
    auto caps = deps.driver.capabilities(d);
    auto t = gap_threshold(deps.poll_interval, caps.data_interval);
    return caps.history ? std::max(t, caps.history_step) : t;
  }

  void count(std::int64_t BackfillStats::*field, std::int64_t n) {
    std::lock_guard lock(mutex);
    counters.*field += n;
  }
  void set_open() {
    std::lock_guard lock(mutex);
    counters.open = static_cast<std::int64_t>(open.size());
  }

  asio::awaitable<void> event(Event e) {
    auto self = shared_from_this();
    if (deps.record) {
      deps.record(std::move(e));
      co_return;
    }
    auto op = blocking([this, e] { return deps.store.add_events({e}); });
    (void)co_await std::move(op);
  }

  asio::awaitable<void> save(Gap g) {
    auto self = shared_from_this();
    g.updated_at = deps.clock.now();
    auto op = blocking([this, g] { return deps.store.update_gap(g); });
    (void)co_await std::move(op);  // a failed write keeps the gap open in memory; retried later
  }

  asio::awaitable<void> load(std::vector<DeviceInfo> devices) {
    auto self = shared_from_this();
    for (const auto& d : devices) {
      auto op = blocking([this, id = d.id] { return deps.store.last_sample_time(id); });
      auto t = co_await std::move(op);
      if (t && *t) {
        last[d.id] = **t;
        restarted.insert(d.id);
      }
      auto gop = blocking([this, id = d.id] {
        return deps.store.gaps({.device = id, .statuses = {"open"}, .limit = 10'000});
      });
      auto gaps = co_await std::move(gop);
      if (gaps)
        for (auto& g : *gaps)
          if (g.metric.empty()) open.push_back(std::move(g));
    }
    set_open();
  }

  // Records a gap: its row, its place among the open gaps and its event. Nothing when the store
  // refused the row.
  asio::awaitable<std::optional<Gap>> record(Gap g) {
    auto self = shared_from_this();
    auto op = blocking([this, g] { return deps.store.add_gap(g); });
    auto id = co_await std::move(op);
    if (!id) co_return std::nullopt;
    g.id = *id;
    open.push_back(g);
    count(&BackfillStats::gaps_found, 1);
    set_open();
    // Named, then awaited: g++ 12 destroys a temporary argument of a co_await twice.
    Event e{g.device, g.detected_at, Severity::Warning, "history.gap",
            "no values from " + format_iso8601(g.from) + " to " + format_iso8601(g.to) + " (" +
                duration_text(g.to - g.from) + "): " + g.reason};
    auto eop = event(std::move(e));
    co_await std::move(eop);
    co_return g;
  }

  asio::awaitable<void> samples_dropped(std::vector<store::DroppedSamples> lost) {
    auto self = shared_from_this();
    for (auto& l : lost) {
      Gap g;
      g.device = l.device;
      // The dropped samples lie inside the gap: backfill writes what is strictly between its
      // ends.
      g.from = l.from - Millis(1);
      g.to = l.to + Millis(1);
      g.reason = std::to_string(l.samples) + " samples could not be stored: " + l.reason;
      g.status = "open";
      g.done_until = g.from;
      g.detected_at = g.updated_at = deps.clock.now();
      unrecorded.push_back(g);
    }
    // Each gap waiting for the database that refused the samples is tried again.
    std::vector<Gap> waiting;
    std::swap(waiting, unrecorded);
    for (auto& w : waiting) {
      auto op = record(w);
      if (!co_await std::move(op)) unrecorded.push_back(std::move(w));
    }
  }

  /// `metrics`: sorted, each once.
  asio::awaitable<std::optional<Gap>> poll_succeeded(DeviceInfo d, TimePoint t,
                                                     std::vector<Name> metrics) {
    auto self = shared_from_this();
    if (!metrics.empty()) {
      auto& e = expected[d.id];
      if (!std::equal(e.begin(), e.end(), metrics.begin(), metrics.end()))
        e.assign(metrics.begin(), metrics.end());
    }
    auto it = last.find(d.id);
    std::optional<Gap> found;
    if (it != last.end() && t - it->second > threshold(d)) {
      Gap g;
      g.device = d.id;
      g.from = it->second;
      g.to = t;
      if (auto f = failing.find(d.id); f != failing.end())
        g.reason = "no answer: " + f->second;
      else if (restarted.contains(d.id))
        g.reason = "sunbridge was not running (or had no answer before it stopped)";
      else
        g.reason = "no new values from the device";
      g.status = "open";
      g.done_until = g.from;
      g.detected_at = g.updated_at = deps.clock.now();
      auto op = record(g);
      found = co_await std::move(op);
    }
    if (it == last.end() || t > it->second) last[d.id] = t;
    failing.erase(d.id);
    restarted.erase(d.id);
    co_return found;
  }

  // The metrics a gap of `device` should have values for.
  asio::awaitable<std::vector<std::string>> metrics_of(const std::string& device) {
    auto self = shared_from_this();
    std::vector<std::string> out;
    if (auto e = expected.find(device); e != expected.end()) {
      out.assign(e->second.begin(), e->second.end());
    } else {
      auto op = blocking([this, device] { return deps.store.metrics(device); });
      auto stored = co_await std::move(op);
      if (stored) out = *stored;
    }
    std::erase_if(out, [](const std::string& m) { return !tracked_metric(m); });
    co_return out;
  }

  // The gap is as filled as the vendor's history allows: what is still missing is recorded per
  // metric, counters across it are estimated, and the gap gets its final status.
  asio::awaitable<void> finish(Gap g, Capabilities caps, std::string why_missing) {
    auto self = shared_from_this();
    // The values either side of the gap must be readable: the poll that ended it may still be
    // in the store's write queue (on a loaded machine its counters were found missing, and the
    // gap left unfillable instead of estimated).
    auto fop = blocking([this] { return deps.store.flush(); });
    (void)co_await std::move(fop);
    auto metrics = co_await metrics_of(g.device);
    Millis thr = gap_threshold(deps.poll_interval, caps.data_interval);
    std::vector<std::string> missing, estimated;
    std::int64_t estimated_samples = 0;
    auto now = deps.clock.now();
    for (const auto& m : metrics) {
      auto hop = blocking([this, d = g.device, m, r = TimeRange{g.from, g.to + Millis(1)}] {
        return deps.store.history({d, m, r, std::nullopt, 1'000'000});
      });
      auto points = co_await std::move(hop);
      if (!points) continue;
      std::vector<TimePoint> times;
      bool from_history = false;
      // Estimated values (an earlier pass over this gap) are no cover: a replay finds the same.
      for (const auto& p : *points)
        if (p.quality != Quality::Estimated) {
          times.push_back(p.time);
          from_history |= p.quality == Quality::Backfilled;
        }
      // Values from the vendor's history count as complete at its resolution; a metric it gave
      // nothing for is missing wherever the poll plan expected a value.
      auto tolerance = from_history ? history_tolerance(m, caps.history_step, thr) : thr;
      auto holes = uncovered(std::move(times), {g.from, g.to}, tolerance);
      if (holes.empty()) continue;
      missing.push_back(m);
      for (const auto& h : holes) {
        Gap mg;
        mg.device = g.device;
        mg.metric = m;
        mg.from = h.from;
        mg.to = h.to;
        mg.reason = g.reason;
        mg.status = "unfillable";
        mg.detail = why_missing;
        mg.done_until = h.to;
        mg.parent = g.id;
        mg.detected_at = mg.updated_at = now;
        if (is_counter(m)) {
          auto bop = blocking([this, d = g.device, m, t = h.from] {
            return deps.store.sample_at_or_before(d, m, t);
          });
          auto before = co_await std::move(bop);
          auto aop = blocking(
              [this, d = g.device, m, t = h.to] { return deps.store.sample_at_or_after(d, m, t); });
          auto after = co_await std::move(aop);
          if (before && after && *before && *after) {
            auto est = interpolate_counter(g.device, m, (*before)->time, (*before)->value,
                                           (*after)->time, (*after)->value);
            if (!est.empty()) {
              auto wop = blocking([this, est] { return deps.store.write_samples(est); });
              if (auto w = co_await std::move(wop); w) {
                mg.status = "estimated";
                mg.detail += "; " + std::to_string(est.size()) +
                             " hourly values estimated on the line between the counter's values "
                             "either side";
                mg.filled = static_cast<std::int64_t>(est.size());
                estimated_samples += mg.filled;
                if (estimated.empty() || estimated.back() != m) estimated.push_back(m);
              }
            } else if ((*after)->value < (*before)->value) {
              mg.detail += "; not estimated: the counter went down across the gap (a reset)";
            }
          }
        }
        auto op = blocking([this, mg] { return deps.store.add_gap(mg); });
        (void)co_await std::move(op);
      }
    }
    count(&BackfillStats::samples_estimated, estimated_samples);
    if (missing.empty()) {
      g.status = "filled";
      g.detail =
          "filled with " + std::to_string(g.filled) + " samples from " + deps.vendor + " history";
    } else {
      g.status = g.filled > 0 ? "partial" : (estimated.empty() ? "unfillable" : "estimated");
      std::string names;
      for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
      g.detail = (g.filled > 0 ? std::to_string(g.filled) + " samples from " + deps.vendor +
                                     " history; still missing: "
                               : why_missing + "; missing: ") +
                 names;
      if (!estimated.empty())
        g.detail += " (counters estimated: " + std::to_string(estimated_samples) + " values)";
    }
    g.done_until = g.to;
    g.next_attempt.reset();
    co_await save(g);
    std::erase_if(open, [&](const Gap& o) { return o.id == g.id; });
    set_open();
    if (g.status != "filled") count(&BackfillStats::gaps_unfilled, 1);
    // How backfill ended: filled is news, anything less is a warning.
    Event e{g.device, g.updated_at, g.status == "filled" ? Severity::Info : Severity::Warning,
            "history.gap_" + g.status,
            "gap from " + format_iso8601(g.from) + " to " + format_iso8601(g.to) + " " + g.status +
                ": " + g.detail};
    auto eop = event(std::move(e));
    co_await std::move(eop);
  }

  asio::awaitable<bool> step(std::vector<DeviceInfo> devices) {
    auto self = shared_from_this();
    auto now = deps.clock.now();
    auto due = std::find_if(open.begin(), open.end(), [&](const Gap& g) {
      return !g.next_attempt || *g.next_attempt <= now;
    });
    if (due == open.end()) co_return false;
    Gap g = *due;
    auto dev = std::find_if(devices.begin(), devices.end(),
                            [&](const DeviceInfo& d) { return d.id == g.device; });
    if (dev == devices.end()) {
      g.status = "unfillable";
      g.detail = g.device + " is no longer found on its connection";
      g.next_attempt.reset();
      co_await save(g);
      std::erase_if(open, [&](const Gap& o) { return o.id == g.id; });
      set_open();
      co_return true;
    }
    auto caps = deps.driver.capabilities(*dev);
    if (!caps.history) {
      auto op = finish(g, caps, deps.vendor + " offers no history to backfill from");
      co_await std::move(op);
      co_return true;
    }
    TimeRange chunk{g.done_until, std::min(g.to, g.done_until + kChunk)};
    auto op = deps.driver.history(*dev, chunk);
    auto got = co_await std::move(op);
    if (!got) {
      const auto& e = got.error();
      if (e.kind == ErrorKind::NotSupported) {
        auto op = finish(g, caps, e.message);
        co_await std::move(op);
        co_return true;
      }
      if (e.kind == ErrorKind::RateLimited) {
        // The budget is for live values first; a refusal costs no call, so it is no attempt.
        Millis wait = e.retry_after ? duration_cast<Millis>(*e.retry_after) : Millis(60'000);
        g.next_attempt = now + std::max(Millis(60'000), wait);
        g.detail = "waiting for the call budget: " + e.message;
      } else if (++g.attempts >= kMaxAttempts) {
        auto op = finish(
            g, caps, "history failed " + std::to_string(g.attempts) + " times: " + e.describe());
        co_await std::move(op);
        co_return true;
      } else {
        g.next_attempt = now + std::min(kMaxRetryDelay, Millis(60'000) * (1 << g.attempts));
        g.detail = "history failed (attempt " + std::to_string(g.attempts) + "): " + e.describe();
      }
      *due = g;
      co_await save(g);
      co_return true;
    }
    // History passes the same plausibility check as live values.
    count(&BackfillStats::samples_implausible,
          static_cast<std::int64_t>(take_implausible(*got, caps).size()));
    std::vector<Sample> samples;
    for (auto& s : *got)
      if (s.time > g.from && s.time < g.to) {
        if (s.quality == Quality::Measured) s.quality = Quality::Backfilled;
        samples.push_back(std::move(s));
      }
    if (!samples.empty() && deps.counters) {
      auto aop = deps.counters->adjust_history(samples);
      co_await std::move(aop);
      auto fop = blocking([this, &samples, from = g.from, to = g.to] {
        fit_counters(samples, from, to);
        return 0;
      });
      (void)co_await std::move(fop);
    }
    if (!samples.empty()) {
      auto wop = blocking([this, samples] { return deps.store.write_samples(samples); });
      auto w = co_await std::move(wop);
      if (!w) {  // the disk refused: try again later, nothing is lost from the vendor's side
        g.next_attempt = now + Millis(60'000);
        g.detail = "storing backfilled samples failed: " + w.error().message;
        *due = g;
        co_await save(g);
        co_return true;
      }
    }
    g.filled += static_cast<std::int64_t>(samples.size());
    count(&BackfillStats::samples_backfilled, static_cast<std::int64_t>(samples.size()));
    g.done_until = chunk.to;
    g.attempts = 0;
    g.next_attempt.reset();
    if (g.done_until >= g.to) {
      auto op = finish(g, caps, deps.vendor + " history has no values here");
      co_await std::move(op);
    } else {
      g.detail = "backfilled up to " + format_iso8601(g.done_until);
      *due = g;
      co_await save(g);
    }
    co_return true;
  }
};

Backfiller::Backfiller(Deps deps) : impl_(std::make_shared<Impl>(deps)) {}

asio::awaitable<void> Backfiller::load(const std::vector<DeviceInfo>& devices) {
  auto op = impl_->load(devices);
  co_await std::move(op);
}

void Backfiller::poll_failed(const std::string& device, const Error& error) {
  impl_->failing[device] = error.describe();
}

asio::awaitable<std::optional<Gap>> Backfiller::poll_succeeded(const DeviceInfo& device,
                                                               const Snapshot& snapshot) {
  std::vector<Name> metrics;
  metrics.reserve(snapshot.samples.size());
  for (const auto& s : snapshot.samples)
    if (tracked_metric(s.metric)) metrics.push_back(s.metric);
  std::sort(metrics.begin(), metrics.end());
  metrics.erase(std::unique(metrics.begin(), metrics.end()), metrics.end());
  auto op = impl_->poll_succeeded(device, snapshot.time, std::move(metrics));
  co_return co_await std::move(op);
}

asio::awaitable<void> Backfiller::samples_dropped(std::vector<store::DroppedSamples> lost) {
  auto op = impl_->samples_dropped(std::move(lost));
  co_await std::move(op);
}

asio::awaitable<bool> Backfiller::step(const std::vector<DeviceInfo>& devices) {
  auto op = impl_->step(devices);
  co_return co_await std::move(op);
}

BackfillStats Backfiller::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counters;
}

}  // namespace sb::engine
