// One function per subcommand: registers its flags on the CLI11 app; its callback runs the
// command and leaves the exit code in `rc` (0 ok, 1 failure, 2 usage, 3 unverified command).
#pragma once

#include <CLI/App.hpp>
#include <optional>
#include <string>

#include "core/clock.hpp"

namespace sb::cli {

void register_demo(CLI::App& app, int& rc);
void register_run(CLI::App& app, int& rc);
void register_simulate(CLI::App& app, int& rc);
void register_read(CLI::App& app, int& rc);
void register_control(CLI::App& app, int& rc);
void register_history(CLI::App& app, int& rc);
void register_check_config(CLI::App& app, int& rc);
void register_auth(CLI::App& app, int& rc);
void register_backup(CLI::App& app, int& rc);
void register_migrate(CLI::App& app, int& rc);
void register_fleet(CLI::App& app, int& rc);

/// Prints "sunbridge: <message>" to stderr and returns 1.
int report(const std::string& message);

/// The clock `--speed S --origin T` give `run` and `simulate`: nothing for real time (speed 1, no
/// origin), else simulated time that reads `T + (now - T) * S`, so that processes given the same
/// pair share it (an origin left out is now). Errors name the flag.
Result<std::optional<ScaledClock>> simulated_timeline(double speed, const std::string& origin);

}  // namespace sb::cli
