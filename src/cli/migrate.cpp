// sunbridge migrate: a home that grows moves its whole history into the fleet's PostgreSQL (or
// between any two databases sunbridge can open), resumably, with progress and the counts of
// both sides compared at the end.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "store/migrate.hpp"
#include "store/owner_lock.hpp"
#include "store/store.hpp"

namespace sb::cli {

namespace {

struct MigrateOptions {
  std::string from, to;
};

// "sqlite:FILE" or a file; a postgresql:// URL as it is.
std::string database_of(const std::string& s) {
  return s.starts_with("sqlite:") ? s.substr(7) : s;
}

std::string thousands(std::int64_t n) {
  auto s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > (n < 0 ? 1 : 0); i -= 3) s.insert(i, ",");
  return s;
}

// A bar redrawn in place on a terminal; on a pipe or a journal, a line every tenth.
class ProgressBar {
 public:
  ProgressBar() : tty_(::isatty(STDERR_FILENO) != 0), started_(std::chrono::steady_clock::now()) {}
  void operator()(const store::MigrationProgress& p) {
    auto total = std::max<std::int64_t>(p.samples_total, 1);
    int percent = static_cast<int>(std::min<std::int64_t>(100, p.samples_done * 100 / total));
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    auto rate =
        secs > 0 ? static_cast<std::int64_t>(static_cast<double>(p.samples_done) / secs) : 0;
    std::string eta = "?";
    if (rate > 0) {
      auto left = (p.samples_total - p.samples_done) / rate;
      eta = std::to_string(left / 60) + "m" + (left % 60 < 10 ? "0" : "") +
            std::to_string(left % 60) + "s";
    }
    if (tty_) {
      std::string bar(static_cast<std::size_t>(percent / 4), '#');
      bar.resize(25, '.');
      std::fprintf(stderr, "\r[%s] %3d %% %s/%s samples, %s/s, %s left   ", bar.c_str(), percent,
                   thousands(p.samples_done).c_str(), thousands(p.samples_total).c_str(),
                   thousands(rate).c_str(), eta.c_str());
    } else if (percent / 10 != last_tenth_) {
      last_tenth_ = percent / 10;
      std::cerr << "sunbridge: migrate: " << percent << " % (" << thousands(p.samples_done)
                << " of " << thousands(p.samples_total) << " samples, " << thousands(rate)
                << "/s), at " << p.series << "\n";
    }
  }
  void done() {
    if (tty_) std::fputs("\n", stderr);
  }

 private:
  bool tty_;
  std::chrono::steady_clock::time_point started_;
  int last_tenth_ = -1;
};

int migrate(const MigrateOptions& o) {
  auto from = database_of(o.from), to = database_of(o.to);
  if (from == to) return report("--from and --to name the same database");
  if (!store::is_postgres(from) && !std::filesystem::exists(from))
    return report("--from: no database '" + from + "'");
  // A SQLite side must not be in use: a gateway writing to it would race the copy.
  std::vector<store::OwnerLock> locks;
  for (const auto& db : {from, to}) {
    if (store::is_postgres(db)) continue;
    auto lock = store::OwnerLock::take(db, "migrate");
    if (!lock) return report(lock.error().message);
    locks.push_back(std::move(*lock));
  }
  auto source = store::open_store(from);
  if (!source) return report("--from: " + source.error().message);
  auto target = store::open_store(to);
  if (!target) return report("--to: " + target.error().message);
  ProgressBar bar;
  auto r = store::migrate_store(**source, **target, [&](const auto& p) { bar(p); });
  bar.done();
  if (!r) return report("migrate stopped, run it again to go on: " + r.error().message);
  (*target)->close();
  (*source)->close();
  std::cout << store::without_password(from) << " -> " << store::without_password(to) << ": "
            << thousands(r->samples_copied) << " samples copied"
            << (r->samples_skipped ? ", " + thousands(r->samples_skipped) + " already there" : "")
            << (r->audit_copied ? ""
                                : "; the command audit and leases were not copied (the "
                                  "target has its own)")
            << "\n";
  for (const auto& [table, n] : r->counts)
    std::cout << "  " << table << ": " << thousands(n.first) << " -> " << thousands(n.second)
              << (n.first == n.second  ? ""
                  : n.second > n.first ? "  (more: other data)"
                                       : "  MISSING")
              << "\n";
  if (!r->mismatches.empty()) {
    bool missing = false;
    for (const auto& [table, n] : r->counts) missing |= n.second < n.first;
    if (missing) return report("the target has fewer rows than the source: " + r->mismatches);
  }
  std::cout << "counts agree"
            << (r->mismatches.empty() ? "" : " where the target held nothing else") << "\n";
  return 0;
}

}  // namespace

void register_migrate(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "migrate",
      "Copy a whole history into another database (a home's SQLite file into the fleet's "
      "PostgreSQL), resumably: run it again after an interruption and it goes on");
  auto o = std::make_shared<MigrateOptions>();
  cmd->add_option("--from", o->from, "the source: sqlite:FILE (or FILE), or postgresql://…")
      ->required();
  cmd->add_option("--to", o->to, "the target: postgresql://USER@HOST/DB (or sqlite:FILE)")
      ->required();
  cmd->footer(
      "Stop the gateway on the source first (a SQLite file in use is refused). The password "
      "comes from PGPASSWORD or ~/.pgpass; messages show the URL without it. At the end the "
      "rows of every table are counted on both sides; exit 1 when the target has fewer.");
  cmd->callback([o, &rc] { rc = migrate(*o); });
}

}  // namespace sb::cli
