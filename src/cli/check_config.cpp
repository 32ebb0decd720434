#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "engine/config.hpp"
#include "engine/drivers.hpp"
#include "net/driver_env.hpp"

namespace sb::cli {

void register_check_config(CLI::App& app, int& rc) {
  auto* cmd =
      app.add_subcommand("check-config", "Check a configuration file without starting anything");
  auto config = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "configuration file (YAML)")->required();
  cmd->callback([config, &rc] {
    const auto& registry = engine::builtin_drivers();
    auto cfg = engine::load_config(*config, registry);
    if (!cfg) {
      rc = report(cfg.error().message);
      return;
    }
    // Let every driver check its own options too.
    boost::asio::io_context io;
    RealClock clock;
    net::HttpClient http(io.get_executor());
    net::AsioSleeper sleeper(io.get_executor());
    DriverEnv env{io.get_executor(), clock, http, sleeper};
    for (const auto& c : cfg->connections) {
      if (auto d = registry.create(c, env); !d) {
        rc = report(d.error().message);
        return;
      }
    }
    std::cout << *config << ": ok (" << cfg->sites.size() << " site(s), " << cfg->connections.size()
              << " connection(s), database " << cfg->gateway.database << ", listen "
              << cfg->gateway.listen_host << ":" << cfg->gateway.listen_port
              << (cfg->gateway.api_token.empty() ? ", commands disabled: no api_token" : "")
              << ")\n";
  });
}

}  // namespace sb::cli
