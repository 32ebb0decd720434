#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "engine/drivers.hpp"

namespace sb::cli {

void register_run(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "run", "Run the gateway: poll every connection, store, serve the API and dashboard");
  auto config = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "configuration file (YAML)")->required();
  cmd->callback([config, &rc] {
    auto cfg = engine::load_config(*config, engine::builtin_drivers());
    if (!cfg) {
      rc = report(cfg.error().message);
      return;
    }
    RealClock clock;
    Runtime rt(clock, cfg->gateway.threads);
    auto host = cfg->gateway.listen_host;
    auto db = cfg->gateway.database;
    auto n = cfg->connections.size();
    if (auto r = rt.start(std::move(*cfg), true, true, "run"); !r) {
      rc = report(r.error().message);
      return;
    }
    std::cout << "sunbridge " << SUNBRIDGE_VERSION << ": " << n << " connection(s), database " << db
              << "\nlistening on http://" << host << ":" << rt.port() << "\n"
              << std::flush;
    rt.run_until_signal([] { std::cout << "stopping…\n" << std::flush; });
    std::cout << "stopped\n";
  });
}

}  // namespace sb::cli
