#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "core/metric.hpp"
#include "engine/config.hpp"
#include "engine/drivers.hpp"
#include "net/json.hpp"
#include "store/store.hpp"

namespace sb::cli {

namespace {

struct HistoryOptions {
  std::string config;
  std::string device;
  std::string metric;
  std::string from;
  std::string to;
  std::string step;
  bool csv = false;
  bool gaps = false;
  std::string status;
};

// `history --gaps`: the gaps recorded in the window, each device's hole with what backfill did,
// and under it the metrics the vendor's history did not give.
int list_gaps(const HistoryOptions& o, store::Store& st, TimeRange range) {
  store::GapQuery q;
  if (!o.device.empty()) q.device = o.device;
  q.range = range;
  q.limit = 100'000;
  if (!o.status.empty()) {
    auto statuses = parse_gap_statuses(o.status, "--status");
    if (!statuses) return report(statuses.error().message);
    q.statuses = std::move(*statuses);
  }
  auto gaps = st.gaps(q);
  if (!gaps) return report(gaps.error().message);
  auto span = [](const Gap& g) {
    auto m = std::chrono::duration_cast<std::chrono::minutes>(g.to - g.from).count();
    char b[32];
    std::snprintf(b, sizeof b, "%lldh%02lld", static_cast<long long>(m / 60),
                  static_cast<long long>(m % 60));
    return std::string(b);
  };
  if (o.csv) {
    std::cout << "device,metric,from,to,seconds,status,samples,reason,detail\n";
    auto quote = [](std::string s) {
      std::string out = "\"";
      for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      return out + "\"";
    };
    for (const auto& g : *gaps)
      std::cout << g.device << ',' << g.metric << ',' << format_iso8601(g.from) << ','
                << format_iso8601(g.to) << ','
                << std::chrono::duration_cast<std::chrono::seconds>(g.to - g.from).count() << ','
                << g.status << ',' << g.filled << ',' << quote(g.reason) << ',' << quote(g.detail)
                << '\n';
    return 0;
  }
  // Device holes oldest first, each followed by its metrics' rows.
  std::vector<const Gap*> holes;
  std::multimap<std::int64_t, const Gap*> children;
  for (const auto& g : *gaps) {
    if (g.parent)
      children.emplace(g.parent, &g);
    else
      holes.push_back(&g);
  }
  std::reverse(holes.begin(), holes.end());
  for (const auto* h : holes) {
    std::printf("%s  %s .. %s  %6s  %-10s %s\n", h->device.c_str(), format_iso8601(h->from).c_str(),
                format_iso8601(h->to).c_str(), span(*h).c_str(), h->status.c_str(),
                h->reason.c_str());
    if (!h->detail.empty()) std::printf("    %s\n", h->detail.c_str());
    auto [b, e] = children.equal_range(h->id);
    std::vector<const Gap*> kids;
    for (auto it = b; it != e; ++it) kids.push_back(it->second);
    // Metrics missing over the same stretch with the same outcome share one line: a hole every
    // metric has (33 of them for an inverter) is one line, not 33.
    std::sort(kids.begin(), kids.end(), [](const Gap* x, const Gap* y) {
      return std::tie(x->from, x->to, x->status, x->metric) <
             std::tie(y->from, y->to, y->status, y->metric);
    });
    for (std::size_t i = 0; i < kids.size();) {
      std::size_t j = i + 1;
      while (j < kids.size() && kids[j]->from == kids[i]->from && kids[j]->to == kids[i]->to &&
             kids[j]->status == kids[i]->status)
        ++j;
      std::string names = kids[i]->metric;
      if (j - i > 1) {
        names = std::to_string(j - i) + " metrics";
        std::string list;
        for (auto k = i; k < j; ++k) list += (list.empty() ? "" : ", ") + kids[k]->metric;
        std::printf("    %-28s %s .. %s  %6s  %s: %s\n", names.c_str(),
                    format_iso8601(kids[i]->from).c_str(), format_iso8601(kids[i]->to).c_str(),
                    span(*kids[i]).c_str(), kids[i]->status.c_str(), list.c_str());
      } else {
        std::printf("    %-28s %s .. %s  %6s  %s\n", names.c_str(),
                    format_iso8601(kids[i]->from).c_str(), format_iso8601(kids[i]->to).c_str(),
                    span(*kids[i]).c_str(), kids[i]->status.c_str());
      }
      i = j;
    }
  }
  // Metric rows whose device hole is outside the window (or was filtered out by status).
  for (const auto& [parent, g] : children)
    if (std::none_of(holes.begin(), holes.end(), [&](const Gap* h) { return h->id == parent; })) {
      std::printf("%s %-28s %s .. %s  %6s  %s\n", g->device.c_str(), g->metric.c_str(),
                  format_iso8601(g->from).c_str(), format_iso8601(g->to).c_str(), span(*g).c_str(),
                  g->status.c_str());
    }
  std::fprintf(stderr, "%zu gap(s), %zu metric record(s)\n", holes.size(),
               gaps->size() - holes.size());
  return 0;
}

int history(const HistoryOptions& o) {
  if (!o.gaps && o.device.empty())
    return report("history needs a device (or --gaps to list the gaps of every device)");
  if (!o.gaps && o.metric.empty())
    return report("history needs --metric (e.g. --metric battery.soc), or --gaps");
  if (o.gaps && !o.metric.empty())
    return report("--gaps lists every metric of a device; leave out --metric");
  if (!o.gaps && !o.status.empty()) return report("--status goes with --gaps");
  if (!o.gaps && !is_known_metric(o.metric))
    return report("unknown metric '" + o.metric + "' (see GET /api/v1/metrics)");
  TimePoint now = RealClock().now();
  TimePoint to = now, from = now - std::chrono::hours(24);
  if (!o.to.empty() && !parse_iso8601(o.to, to))
    return report("--to '" + o.to + "' is not a time (e.g. 2026-11-21T10:00:00Z)");
  if (!o.from.empty() && !parse_iso8601(o.from, from))
    return report("--from '" + o.from + "' is not a time (e.g. 2026-11-21)");
  if (from >= to) return report("--from must be before --to");
  std::optional<Millis> step;
  if (!o.step.empty()) {
    auto s = parse_duration(o.step);
    if (!s || s->count() < 1000)
      return report("--step '" + o.step + "' must be a duration of at least 1s");
    step = *s;
  }
  auto cfg = engine::load_config(o.config, engine::builtin_drivers());
  if (!cfg) return report(cfg.error().message);
  auto st = store::open_store(cfg->gateway.database);
  if (!st) return report(st.error().message);
  if (o.gaps) {
    if (o.from.empty()) from = now - std::chrono::days(7);
    return list_gaps(o, **st, {from, to});
  }
  auto h = (*st)->history({o.device, o.metric, {from, to}, step});
  if (!h) return report(h.error().message);
  if (h->empty()) {
    auto devices = (*st)->devices();
    bool known = false;
    std::string names;
    if (devices)
      for (const auto& d : *devices) {
        known |= d.id == o.device;
        names += (names.empty() ? "" : ", ") + d.id;
      }
    if (!known)
      return report("no device '" + o.device + "' in " +
                    store::without_password(cfg->gateway.database) +
                    (names.empty() ? " (no devices stored yet: has `sunbridge run` polled?)"
                                   : " (known: " + names + ")"));
  }
  auto def = find_metric(o.metric);
  std::string unit = def ? std::string(unit_symbol(def->unit)) : "";
  if (o.csv) std::cout << "time,value" << (step ? ",min,max,count" : "") << ",quality\n";
  for (const auto& p : *h) {
    if (o.csv) {
      // Every digit the value has (a counter of 13518180.26 Wh, not 1.35182e+07), as the store
      // holds it: the CSV reads back to the same numbers.
      std::cout << format_iso8601(p.time) << ',' << net::number_text(p.value);
      if (step)
        std::cout << ',' << net::number_text(p.min) << ',' << net::number_text(p.max) << ','
                  << p.count;
      std::cout << ',' << to_string(p.quality) << '\n';
    } else {
      std::printf("%-26s %12.2f %s\n", format_iso8601(p.time).c_str(), p.value, unit.c_str());
    }
  }
  if (!o.csv) std::fprintf(stderr, "%zu point(s)\n", h->size());
  return 0;
}

}  // namespace

void register_history(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand("history", "Print stored history of one device metric");
  auto o = std::make_shared<HistoryOptions>();
  cmd->add_option("device", o->device, "device id, e.g. sonnen:battery (with --gaps: optional)");
  cmd->add_option("--metric", o->metric, "canonical metric id, e.g. battery.power");
  cmd->add_flag("--gaps", o->gaps,
                "list the gaps in history instead: holes found, what backfill filled, what it "
                "could not");
  cmd->add_option("--status", o->status,
                  "with --gaps: only these statuses (comma list of open, filled, partial, "
                  "estimated, unfillable)");
  cmd->add_option("--from", o->from,
                  "start (RFC 3339 or date); default 24 h ago (with --gaps: 7 days ago)");
  cmd->add_option("--to", o->to, "end (RFC 3339 or date); default now");
  cmd->add_option("--step", o->step, "bucket width (e.g. 5m); raw samples when absent");
  cmd->add_flag("--csv", o->csv, "CSV output");
  cmd->add_option("-c,--config", o->config, "configuration file (YAML)")->required();
  cmd->callback([o, &rc] { rc = history(*o); });
}

}  // namespace sb::cli
