// sunbridge fleet: the fleet's connections in its PostgreSQL database (import from a file of
// sites and connections, list with who holds each, remove), their settings sealed with the
// fleet key.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "engine/config.hpp"
#include "engine/drivers.hpp"
#include "engine/fleet.hpp"
#include "store/fleet.hpp"
#include "store/store.hpp"

namespace sb::cli {

namespace {

struct FleetContext {
  engine::Config config;
  std::string key;
  std::unique_ptr<store::Fleet> fleet;
};

// The configuration (-c), which names the database and the key, and the fleet records.
Result<FleetContext> open_context(const std::string& path) {
  auto cfg = engine::load_config(path, engine::builtin_drivers());
  if (!cfg) return fail(cfg.error());
  if (!cfg->fleet)
    return fail(ErrorKind::InvalidArgument,
                path +
                    " has no 'fleet:' section naming the key that seals connection settings "
                    "(fleet: {key_file: FILE} or {key_env: VARIABLE})");
  auto key = engine::load_fleet_key(*cfg->fleet);
  if (!key) return fail(key.error());
  auto fleet = store::open_fleet(cfg->gateway.database);
  if (!fleet) return fail(fleet.error());
  return FleetContext{std::move(*cfg), std::move(*key), std::move(*fleet)};
}

int import_file(const std::string& config, const std::string& file) {
  auto ctx = open_context(config);
  if (!ctx) return report(ctx.error().message);
  // The file has the configuration's own `sites:` and `connections:` (or is CSV, a connection
  // a row), checked the same way (every driver's options included) before anything is stored.
  auto read = engine::load_fleet_file(file, engine::builtin_drivers());
  if (!read) return report(read.error().message);
  auto* in = &read->config;
  if (in->connections.empty()) return report(file + " has no connections to import");
  auto st = store::open_postgres(ctx->config.gateway.database);
  if (!st) return report(st.error().message);
  for (const auto& s : in->sites)
    if (auto r = (*st)->upsert_site(s); !r) return report(r.error().message);
  (*st)->close();
  for (const auto& c : in->connections) {
    auto sealed = engine::seal_connection(c, ctx->key);
    if (!sealed) return report(sealed.error().message);
    auto account = read->accounts.contains(c.name) ? read->accounts.at(c.name) : "";
    if (auto r = ctx->fleet->put_connection({c.name, c.site, c.vendor, account, *sealed, {}}); !r)
      return report(r.error().message);
  }
  std::cout << file << ": " << in->sites.size() << " site(s), " << in->connections.size()
            << " connection(s) stored in " << store::without_password(ctx->config.gateway.database)
            << " (settings sealed)\n";
  return 0;
}

int list(const std::string& config) {
  auto ctx = open_context(config);
  if (!ctx) return report(ctx.error().message);
  auto rows = ctx->fleet->connections();
  if (!rows) return report(rows.error().message);
  auto leases = ctx->fleet->leases();
  if (!leases) return report(leases.error().message);
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::cout << "connection\tvendor\tsite\taccount\thost\theld by\n";
  for (const auto& row : *rows) {
    auto c = engine::open_connection(row, ctx->key);
    std::string held = "nobody";
    for (const auto& l : *leases)
      if (l.connection == row.name && l.expires_at > now)
        held = l.worker + " (epoch " + std::to_string(l.epoch) + ", " +
               duration_text(std::chrono::duration_cast<Millis>(l.expires_at - now)) + " left)";
    std::cout << row.name << "\t" << row.vendor << "\t" << row.site << "\t"
              << (row.account.empty() ? "-" : row.account) << "\t"
              << (c ? c->host : "? " + c.error().message) << "\t" << held << "\n";
  }
  return 0;
}

int remove(const std::string& config, const std::string& name) {
  auto ctx = open_context(config);
  if (!ctx) return report(ctx.error().message);
  auto r = ctx->fleet->remove_connection(name);
  if (!r) return report(r.error().message);
  if (!*r) return report("no connection '" + name + "' in the fleet");
  std::cout << name << " removed (its history stays)\n";
  return 0;
}

}  // namespace

void register_fleet(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "fleet", "The fleet's connections in its PostgreSQL database: import, list, remove");
  cmd->require_subcommand(1);
  auto config = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "the workers' configuration (YAML)")->required();

  auto* imp = cmd->add_subcommand(
      "import",
      "Store the sites and connections of a file (YAML in the configuration's syntax, or CSV "
      "with a connection a row) in the database; a connection of the same name is replaced");
  auto file = std::make_shared<std::string>();
  imp->add_option("file", *file,
                  "YAML file with sites: and connections:, or a .csv file whose first row names "
                  "the columns: site, name, vendor, host, port, poll_interval, timezone, account "
                  "and the vendor's options (token, password, ...)")
      ->required();
  imp->callback([config, file, &rc] { rc = import_file(*config, *file); });

  auto* ls = cmd->add_subcommand("list", "Every connection and which worker holds it");
  ls->callback([config, &rc] { rc = list(*config); });

  auto* rm = cmd->add_subcommand("remove", "Remove a connection (its history stays)");
  auto name = std::make_shared<std::string>();
  rm->add_option("name", *name, "the connection")->required();
  rm->callback([config, name, &rc] { rc = remove(*config, *name); });
}

}  // namespace sb::cli
