#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "core/metric.hpp"
#include "engine/drivers.hpp"
#include "net/json.hpp"

namespace sb::cli {

namespace {

struct ReadOptions {
  std::string config;
  std::string connection;
  bool json = false;
};

int read_once(const ReadOptions& o) {
  auto cfg = engine::load_config(o.config, engine::builtin_drivers());
  if (!cfg) return report(cfg.error().message);
  std::vector<ConnectionConfig> picked;
  std::string names;
  for (const auto& c : cfg->connections) {
    names += (names.empty() ? "" : ", ") + c.name;
    if (c.name == o.connection) picked.push_back(c);
  }
  if (picked.empty())
    return report("no connection '" + o.connection + "' in " + o.config + " (valid: " + names +
                  ")");
  cfg->connections = picked;
  cfg->gateway.database = ":memory:";  // a one-shot read stores nothing
  RealClock clock;
  Runtime rt(clock, 1);
  if (auto r = rt.start(std::move(*cfg), false, false); !r) return report(r.error().message);
  if (auto r = rt.wait(rt.gateway().discover_all()); !r) return report(r.error().message);
  auto polled = rt.wait(rt.gateway().poll_once());
  if (!polled) return report(polled.error().message);
  if (o.json) {
    boost::json::array out;
    for (const auto& [d, snap] : *polled) {
      boost::json::object values;
      std::map<std::string, TimePoint> when;  // each metric's newest value
      for (const auto& s : snap.samples)
        if (auto it = when.find(s.metric); it == when.end() || s.time >= it->second) {
          when[s.metric] = s.time;
          values[s.metric.view()] = s.value;
        }
      out.push_back(boost::json::object{
          {"device", d.id}, {"time", format_iso8601(snap.time)}, {"values", values}});
    }
    std::cout << net::to_json(out) << "\n";
    return 0;
  }
  for (const auto& [d, snap] : *polled) {
    std::cout << d.id << " (" << d.model << ") at " << format_iso8601(snap.time) << "\n";
    // Cloud drivers also hand out the intervals since their last refresh (a day's worth at the
    // first poll): each metric's newest value is shown, in the order the metrics first came.
    std::vector<const Sample*> newest;
    std::map<std::string, std::size_t> at;
    for (const auto& s : snap.samples) {
      auto [it, fresh] = at.try_emplace(s.metric, newest.size());
      if (fresh)
        newest.push_back(&s);
      else if (s.time >= newest[it->second]->time)
        newest[it->second] = &s;
    }
    int width = 20;
    for (const auto* s : newest) width = std::max(width, static_cast<int>(s->metric.size()));
    for (const auto* s : newest) {
      // Rounded for people, as the unit has it: 812 W, 55.0 %, 2 (a state), never -0.
      auto def = find_metric(s->metric);
      auto unit = def ? def->unit : Unit::None;
      auto symbol = unit_symbol(unit);
      std::printf("  %-*s %12s%s%s\n", width, s->metric.c_str(),
                  display_number(s->value, unit).c_str(), symbol.empty() ? "" : " ",
                  std::string(symbol).c_str());
    }
    if (snap.samples.size() > newest.size())
      std::cout << "  (and " << snap.samples.size() - newest.size()
                << " earlier interval values, stored by `sunbridge run`)\n";
  }
  return 0;
}

}  // namespace

void register_read(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand("read", "Poll one connection once and print canonical values");
  auto o = std::make_shared<ReadOptions>();
  cmd->add_option("connection", o->connection, "connection name from the configuration")
      ->required();
  cmd->add_option("-c,--config", o->config, "configuration file (YAML)")->required();
  cmd->add_flag("--json", o->json, "print JSON instead of a table");
  cmd->callback([o, &rc] { rc = read_once(*o); });
}

}  // namespace sb::cli
