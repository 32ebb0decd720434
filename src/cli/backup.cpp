#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "engine/config.hpp"
#include "engine/drivers.hpp"
#include "store/store.hpp"

namespace sb::cli {

namespace {

struct BackupOptions {
  std::string config;
  std::string to;
  bool force = false;
};

int backup(const BackupOptions& o) {
  auto cfg = engine::load_config(o.config, engine::builtin_drivers());
  if (!cfg) return report(cfg.error().message);
  const auto& db = cfg->gateway.database;
  if (db == ":memory:")
    return report(o.config + " keeps its database in memory: nothing to back up");
  if (store::is_postgres(db))
    return report(o.config + " keeps its history in PostgreSQL (" + store::without_password(db) +
                  "): back it up with the server's own tools, e.g. pg_dump -Fc");
  auto r = store::backup_sqlite(db, o.to, o.force);
  if (!r) return report(r.error().message);
  std::cout << db << " -> " << o.to << ": " << r->bytes << " bytes, " << r->samples
            << " samples, integrity ok\n";
  return 0;
}

}  // namespace

void register_backup(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "backup",
      "Copy the database to a file while the gateway runs (SQLite's online backup); the copy is "
      "checked before it takes its name");
  auto o = std::make_shared<BackupOptions>();
  cmd->add_option("-c,--config", o->config, "configuration file (YAML)")->required();
  cmd->add_option("--to", o->to, "the copy's file, e.g. /var/backups/sunbridge-2026-12-04.db")
      ->required();
  cmd->add_flag("--force", o->force, "replace the file if it exists");
  cmd->footer(
      "Restore: stop the service, copy the backup over the database file (removing "
      "its -wal and -shm files), start the service.");
  cmd->callback([o, &rc] { rc = backup(*o); });
}

}  // namespace sb::cli
