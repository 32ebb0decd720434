#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "engine/drivers.hpp"
#include "net/json.hpp"

namespace sb::cli {

void register_run(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "run", "Run the gateway: poll every connection, store, serve the API and dashboard");
  auto config = std::make_shared<std::string>();
  auto level = std::make_shared<std::string>();
  auto speed = std::make_shared<double>(1.0);
  auto origin = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "configuration file (YAML)")->required();
  cmd->add_option("--log-level", *level,
                  "debug, info, warning or error (default: the config's log.level, else info)");
  cmd->add_option("--speed", *speed,
                  "simulated time, for simulators only: the gateway's clock and schedule run this "
                  "many times faster than real time (with `simulate --speed` and the same "
                  "--origin)")
      ->capture_default_str();
  cmd->add_option("--origin", *origin,
                  "with --speed: the wall-clock time (ISO 8601) at which simulated time equals "
                  "real time; processes given the same origin share one simulated time "
                  "(default: when this process starts)");
  cmd->callback([config, level, speed, origin, &rc] {
    std::optional<LogLevel> forced;
    if (!level->empty()) {
      auto l = parse_log_level(*level);
      if (!l) {
        rc = report("--log-level: " + l.error().message);
        return;
      }
      forced = *l;
    }
    auto timeline = simulated_timeline(*speed, *origin);
    if (!timeline) {
      rc = report(timeline.error().message);
      return;
    }
    auto cfg = engine::load_config(*config, engine::builtin_drivers());
    if (!cfg) {
      rc = report(cfg.error().message);
      return;
    }
    set_log_level(forced.value_or(cfg->log.level));
    RealClock real_clock;
    const Clock& clock = *timeline ? static_cast<const Clock&>(**timeline) : real_clock;
    if (*timeline)
      log(LogLevel::Warning, "gateway", "",
          "on simulated time at " + net::number_text((*timeline)->speed()) + "x" +
              (origin->empty() ? std::string() : " since " + *origin) + " (now " +
              format_iso8601(clock.now()) +
              "): for simulators only, a real device's data would be stamped wrongly");
    Runtime rt(clock, cfg->gateway.threads);
    auto host = cfg->gateway.listen_host;
    auto db = cfg->gateway.database;
    auto n = cfg->connections.size();
    if (auto r = rt.start(std::move(*cfg), true, true, "run"); !r) {
      rc = report(r.error().message);
      return;
    }
    // To stderr, which journald keeps: the service's log.
    log(LogLevel::Info, "gateway", "",
        std::string("sunbridge ") + SUNBRIDGE_VERSION + " started: " +
            (rt.fleet_worker() ? "fleet worker " + rt.fleet_worker()->id() + " holding " +
                                     std::to_string(rt.fleet_worker()->held().size()) +
                                     " fleet connection(s) and " + std::to_string(n) + " of its own"
                               : std::to_string(n) + " connection(s)") +
            ", database " + store::without_password(db) + ", API http://" + host + ":" +
            std::to_string(rt.port()));
    // A socket a connection (several for some), the database's files and the API's clients:
    // said now rather than found as "too many open files" under load.
    if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0) {
      auto connections = n + (rt.fleet_worker() ? rt.fleet_worker()->held().size() : 0);
      if (connections + 256 > lim.rlim_cur)
        log(LogLevel::Warning, "gateway", "",
            "the open-file limit (" + std::to_string(lim.rlim_cur) + ") is close to the " +
                std::to_string(connections) +
                " connections' sockets plus the database's and the API's; raise it "
                "(LimitNOFILE= in the service's unit, ulimit -n)");
    }
    // SIGHUP (systemctl reload) reads the file again; a file with mistakes is refused and the
    // running configuration stays.
    auto reload = [&rt, path = *config, forced] {
      log(LogLevel::Info, "config", "", "reloading " + path);
      auto next = engine::load_config(path, engine::builtin_drivers());
      if (!next) {
        log(LogLevel::Error, "config", "", "reload refused, the running configuration stays:");
        const auto& all = next.error().message;  // one mistake a line
        for (std::size_t at = 0; at < all.size();) {
          auto end = std::min(all.find('\n', at), all.size());
          log(LogLevel::Error, "config", "", all.substr(at, end - at));
          at = end + 1;
        }
        return;
      }
      auto level = forced.value_or(next->log.level);
      auto done = rt.reload(std::move(*next), std::chrono::seconds(5));
      if (!done) {
        log(LogLevel::Error, "config", "",
            "reload refused, the running configuration stays: " + done.error().message);
        return;
      }
      set_log_level(level);
      log(LogLevel::Info, "config", "", "reloaded: " + *done);
    };
    rt.run_until_signal([] { log(LogLevel::Info, "gateway", "", "stopping"); }, reload);
    log(LogLevel::Info, "gateway", "", "stopped");
  });
}

}  // namespace sb::cli
