#include "store/migrate.hpp"

#include <algorithm>
#include <limits>
#include <map>

namespace sb::store {

namespace {

// Far enough either way for any sample, near enough that no database's integer overflows.
const TimeRange kAllTime{from_ms(std::numeric_limits<std::int64_t>::min() / 4),
                         from_ms(std::numeric_limits<std::int64_t>::max() / 4)};
constexpr std::size_t kEverything = 1'000'000'000;

Result<void> copy_samples(Store& from, Store& to, const std::string& device,
                          const std::string& metric, MigrationProgress& p, MigrationReport& report,
                          const std::function<void(const MigrationProgress&)>& progress,
                          std::size_t batch) {
  p.series = device + " " + metric;
  TimePoint start = kAllTime.from;
  // A resumed run: the target has this series up to its newest sample, which was written in
  // time order with everything before it. The source's samples before it count as done.
  auto newest = to.sample_at_or_before(device, metric, kAllTime.to);
  if (!newest) return fail(newest.error());
  if (*newest) {
    start = (*newest)->time;
    auto before = from.history(
        {device, metric, {kAllTime.from, start}, kAllTime.to - kAllTime.from, kEverything});
    if (!before) return fail(before.error());
    for (const auto& b : *before) {
      p.samples_done += b.count;
      report.samples_skipped += b.count;
    }
  }
  for (;;) {
    auto page = from.history({device, metric, {start, kAllTime.to}, std::nullopt, batch});
    if (!page) return fail(page.error());
    if (page->empty()) return {};
    std::vector<Sample> samples;
    samples.reserve(page->size());
    for (const auto& s : *page) samples.push_back({device, metric, s.time, s.value, s.quality});
    if (auto r = to.write_samples(samples); !r)
      return fail(r.error().kind, "writing " + p.series + " from " +
                                      format_iso8601(samples.front().time) + ": " +
                                      r.error().message);
    p.samples_done += static_cast<std::int64_t>(samples.size());
    report.samples_copied += static_cast<std::int64_t>(samples.size());
    if (progress) progress(p);
    if (page->size() < batch) return {};
    start = page->back().time + Millis(1);
  }
}

Result<void> copy_gaps(Store& from, Store& to) {
  GapQuery all;
  all.limit = kEverything;
  auto gaps = from.gaps(all);
  if (!gaps) return fail(gaps.error());
  // The holes as found first, so that a metric's own gap can name its parent's new id.
  std::stable_sort(gaps->begin(), gaps->end(),
                   [](const Gap& a, const Gap& b) { return (a.parent != 0) < (b.parent != 0); });
  std::map<std::int64_t, std::int64_t> ids;
  for (auto g : *gaps) {
    auto old = g.id;
    if (g.parent) {
      auto it = ids.find(g.parent);
      g.parent = it == ids.end() ? 0 : it->second;
    }
    auto id = to.add_gap(g);
    if (!id) return fail(id.error());
    ids[old] = *id;
    g.id = *id;
    if (auto r = to.update_gap(g); !r) return r;  // status, progress and detail as they were
  }
  return {};
}

Result<bool> copy_audit(Store& from, Store& to) {
  auto theirs = to.commands({{}, 1});
  auto their_leases = to.leases(false, 1);
  if (!theirs) return fail(theirs.error());
  if (!their_leases) return fail(their_leases.error());
  if (!theirs->empty() || !their_leases->empty()) return false;
  auto commands = from.commands({{}, kEverything});
  if (!commands) return fail(commands.error());
  std::map<std::int64_t, std::int64_t> ids;
  for (auto it = commands->rbegin(); it != commands->rend(); ++it) {  // oldest first
    auto c = *it;
    auto id = to.begin_command(c);
    if (!id) return fail(id.error());
    ids[c.id] = *id;
    c.id = *id;
    if (auto r = to.finish_command(c); !r) return fail(r.error());
  }
  auto leases = from.leases(false, kEverything);
  if (!leases) return fail(leases.error());
  for (auto it = leases->rbegin(); it != leases->rend(); ++it) {
    auto l = *it;
    if (auto m = ids.find(l.command); m != ids.end()) l.command = m->second;
    if (auto r = to.add_lease(l); !r) return fail(r.error());
  }
  return true;
}

}  // namespace

Result<MigrationReport> migrate_store(Store& from, Store& to,
                                      const std::function<void(const MigrationProgress&)>& progress,
                                      std::size_t batch) {
  MigrationReport report;
  auto before = from.row_counts();
  if (!before) return fail(before.error());
  MigrationProgress p;
  for (const auto& [table, n] : *before)
    if (table == "samples") p.samples_total = n;

  auto sites = from.sites();
  if (!sites) return fail(sites.error());
  for (const auto& s : *sites)
    if (auto r = to.upsert_site(s); !r) return fail(r.error());
  auto devices = from.devices();
  if (!devices) return fail(devices.error());
  for (const auto& d : *devices) {
    auto metrics = from.metrics(d.id);
    if (!metrics) return fail(metrics.error());
    // First and last seen are not in the interface: the device's first and newest samples
    // stand for them (the time it was first seen when it has none).
    auto last = from.last_sample_time(d.id);
    if (!last) return fail(last.error());
    std::optional<TimePoint> first;
    for (const auto& m : *metrics) {
      auto f = from.sample_at_or_after(d.id, m, kAllTime.from);
      if (!f) return fail(f.error());
      if (*f && (!first || (*f)->time < *first)) first = (*f)->time;
    }
    auto seen_first = first.value_or(last->value_or(TimePoint{}));
    if (auto r = to.upsert_device(d, seen_first); !r) return fail(r.error());
    if (*last)
      if (auto r = to.upsert_device(d, **last); !r) return fail(r.error());
    for (const auto& m : *metrics) {
      if (auto r = copy_samples(from, to, d.id, m, p, report, progress, batch); !r)
        return fail(r.error());
      auto resets = from.counter_resets(d.id, m);
      if (!resets) return fail(resets.error());
      for (const auto& c : *resets)
        if (auto r = to.add_counter_reset(c); !r) return fail(r.error());
    }
  }
  EventQuery all_events;
  all_events.limit = kEverything;
  auto events = from.events(all_events);
  if (!events) return fail(events.error());
  for (std::size_t at = 0; at < events->size(); at += 10'000) {
    std::vector<Event> chunk(
        events->begin() + static_cast<std::ptrdiff_t>(at),
        events->begin() + static_cast<std::ptrdiff_t>(std::min(events->size(), at + 10'000)));
    if (auto r = to.add_events(chunk); !r) return fail(r.error());
  }
  if (auto r = copy_gaps(from, to); !r) return fail(r.error());
  auto audit = copy_audit(from, to);
  if (!audit) return fail(audit.error());
  report.audit_copied = *audit;
  if (auto r = to.flush(); !r) return fail(r.error());

  auto after = to.row_counts();
  if (!after) return fail(after.error());
  for (std::size_t i = 0; i < before->size() && i < after->size(); ++i) {
    const auto& [table, n] = (*before)[i];
    auto m = (*after)[i].second;
    report.counts.push_back({table, {n, m}});
    if (n == m) continue;
    if (!report.mismatches.empty()) report.mismatches += "; ";
    report.mismatches += table + ": " + std::to_string(n) + " in the source, " + std::to_string(m) +
                         " in the target";
    if (m > n) report.mismatches += " (the target held other rows before)";
    if ((table == "commands" || table == "leases") && !report.audit_copied)
      report.mismatches += " (the target had an audit already, so it was not copied)";
  }
  return report;
}

}  // namespace sb::store
