#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "engine/config.hpp"
#include "engine/drivers.hpp"

namespace sb::cli {

void register_check_config(CLI::App& app, int& rc) {
  auto* cmd =
      app.add_subcommand("check-config", "Check a configuration file without starting anything");
  auto config = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "configuration file (YAML)")->required();
  cmd->callback([config, &rc] {
    // Every mistake at once, the drivers' own checks of their options included.
    auto cfg = engine::load_config(*config, engine::builtin_drivers());
    if (!cfg) {
      rc = report(cfg.error().message);
      return;
    }
    std::cout << *config << ": ok (" << cfg->sites.size() << " site(s), " << cfg->connections.size()
              << " connection(s), database " << store::without_password(cfg->gateway.database)
              << ", listen " << cfg->gateway.listen_host << ":" << cfg->gateway.listen_port
              << (cfg->gateway.api_token.empty() ? ", commands disabled: no api_token" : "")
              << ")\n";
  });
}

}  // namespace sb::cli
