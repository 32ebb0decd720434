#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "core/metric.hpp"
#include "engine/config.hpp"
#include "engine/drivers.hpp"
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
};

int history(const HistoryOptions& o) {
  if (!is_known_metric(o.metric))
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
  auto st = store::open_sqlite(cfg->gateway.database);
  if (!st) return report(st.error().message);
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
      return report("no device '" + o.device + "' in " + cfg->gateway.database +
                    (names.empty() ? " (no devices stored yet: has `sunbridge run` polled?)"
                                   : " (known: " + names + ")"));
  }
  auto def = find_metric(o.metric);
  std::string unit = def ? std::string(unit_symbol(def->unit)) : "";
  if (o.csv) std::cout << "time,value" << (step ? ",min,max,count" : "") << ",quality\n";
  for (const auto& p : *h) {
    if (o.csv) {
      std::printf("%s,%.6g", format_iso8601(p.time).c_str(), p.value);
      if (step) std::printf(",%.6g,%.6g,%lld", p.min, p.max, static_cast<long long>(p.count));
      std::printf(",%s\n", std::string(to_string(p.quality)).c_str());
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
  cmd->add_option("device", o->device, "device id, e.g. sonnen:battery")->required();
  cmd->add_option("--metric", o->metric, "canonical metric id, e.g. battery.power")->required();
  cmd->add_option("--from", o->from, "start (RFC 3339 or date); default 24 h ago");
  cmd->add_option("--to", o->to, "end (RFC 3339 or date); default now");
  cmd->add_option("--step", o->step, "bucket width (e.g. 5m); raw samples when absent");
  cmd->add_flag("--csv", o->csv, "CSV output");
  cmd->add_option("-c,--config", o->config, "configuration file (YAML)")->required();
  cmd->callback([o, &rc] { rc = history(*o); });
}

}  // namespace sb::cli
