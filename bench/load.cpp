// The load harness (`make load`, or build/bench/load): for each N, simulators for N sonnen
// batteries or KOSTAL inverters (`sunbridge simulate --across addresses`: 8,000 devices a process
// by default, each on its own 127.x.y.z address at one port) and one gateway (`sunbridge run`,
// SQLite) polling them all; after a warm-up in which every device answers once, a fixed window
// is measured from the outside: the gateway's CPU (from /proc), its RSS, the polls due in the
// window by the plan, those done and those late (its /api/v1/health), and the samples stored a
// second (the store's count in the same answer); then one /metrics scrape, its size and the
// gateway's CPU for it. It stops at the first N the machine cannot run and says which limit
// stopped it.
//
//   load [--devices 1000,10000,50000,100000] [--window 60] [--interval 10] [--per-sim 8000]
//        [--vendor sonnen|kostal] [--bin build/sunbridge] [--min-polls 0.9]
//
// With --min-polls F it exits 1 when an N did fewer than F of its due polls (the smoke test in
// `make test` runs a small N that way: a test of the harness, not a timed assertion).
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_support.hpp"
#include "net/gzip.hpp"
#include "net/json.hpp"
#include "ports.hpp"
#include "process.hpp"

using namespace sb;
using namespace std::chrono;

namespace {

struct Options {
  std::vector<int> devices{1000, 10'000, 50'000, 100'000};
  int window_s = 60;
  int interval_s = 10;
  int per_sim = 8000;
  std::string vendor = "sonnen";
  std::string bin = SUNBRIDGE_BINARY;
  double min_polls = 0;
};

/// CPU seconds (user + system) of a process, from /proc/PID/stat; -1 when gone.
double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), {});
  auto close = s.rfind(')');
  if (close == std::string::npos) return -1;
  std::stringstream rest(s.substr(close + 2));
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field) fields.push_back(field);
  // After the name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
  if (fields.size() < 13) return -1;
  double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// A /proc/PID/status field in kB (VmRSS, VmHWM); -1 when missing.
long status_kb(pid_t pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::atol(line.c_str() + key.size() + 1);
  return -1;
}

struct Figures {
  std::int64_t polls = 0, late = 0, samples = 0;
  int ok = 0, connections = 0;
};

/// The gateway's counts from its health answer; nothing, with the reason in `why`, when it did
/// not give them.
std::optional<Figures> health(test::Http& api, std::string* why = nullptr) {
  // The counts only (?limit=0): at 50,000 connections the list is 20 MB.
  auto r = api.call("GET", "/api/v1/health?limit=0");
  if (!r || r->status != 200) {
    if (why) *why = r ? "status " + std::to_string(r->status) : r.error().describe();
    return std::nullopt;
  }
  auto o = net::parse_json_object(r->body, "health");
  if (!o) {
    if (why) *why = o.error().describe();
    return std::nullopt;
  }
  // A sunbridge from before these counts (--bin) lacks them: said, not thrown.
  const auto* total = o->if_contains("connections_total");
  const auto* states = o->if_contains("connection_states");
  const auto* schedule = o->if_contains("schedule");
  if (!total || !states || !states->is_object() || !schedule || !schedule->is_object() ||
      !schedule->as_object().contains("polls")) {
    if (why)
      *why = "the health answer has no connections_total or schedule.polls (an older sunbridge?)";
    return std::nullopt;
  }
  Figures f;
  f.connections = total->to_number<int>();
  if (const auto* ok = states->as_object().if_contains("ok")) f.ok = ok->to_number<int>();
  f.polls = schedule->as_object().at("polls").to_number<std::int64_t>();
  f.late = schedule->as_object().at("polls_late").to_number<std::int64_t>();
  f.samples = o->at("store").at("samples_written").to_number<std::int64_t>();
  return f;
}

/// One N: true when it ran (its figures printed), false with the reason in `stopped`.
bool run_one(const Options& o, int n, std::string& stopped, bool& short_of_polls) {
  // Sockets: each simulator listens on one per device and accepts the gateway's connections to
  // them; the gateway keeps at most half its limit as idle connections (the rest: polls in
  // flight, the database, the API), so it needs one per device only up to that. Each sunbridge
  // process raises its own soft limit to the hard one at start (main.cpp).
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  const rlim_t gateway_idle = lim.rlim_max / 2;
  const auto k_most = static_cast<rlim_t>(std::min(n, o.per_sim));
  const rlim_t per_sim_fds = k_most + std::min(k_most, gateway_idle) + 64;
  const rlim_t gateway_fds = std::min(static_cast<rlim_t>(n), gateway_idle) + 256;
  if (std::max(per_sim_fds, gateway_fds) > lim.rlim_max) {
    stopped = "the open-file limit: " + std::to_string(lim.rlim_max) +
              " (the hard limit, which sunbridge raises its own to) is below the " +
              std::to_string(std::max(per_sim_fds, gateway_fds)) +
              " sockets one process would need (a simulator: one listening per device and one "
              "per connection the gateway keeps; try a smaller --per-sim)";
    return false;
  }
  if ((n + o.per_sim - 1) / o.per_sim > 254) {
    stopped = "--per-sim " + std::to_string(o.per_sim) +
              " would need more than 254 simulators "
              "(one 127.x.0.0/16 each)";
    return false;
  }
  // Kept when the run fails: the gateway's log is in it.
  auto dir = test::temp_dir("load-" + std::to_string(n));
  // Simulator s hosts its devices on consecutive addresses from 127.s.0.1, all at one port, so
  // no device takes a port from the range outgoing connections are given.
  std::vector<std::unique_ptr<test::Process>> sims;
  std::vector<std::pair<std::string, std::string>> endpoints;  // host, port
  for (int from = 0; from < n; from += o.per_sim) {
    int k = std::min(o.per_sim, n - from);
    const auto first = "127." + std::to_string(sims.size() + 1) + ".0.1";
    sims.push_back(std::make_unique<test::Process>(std::vector<std::string>{
        o.bin, "simulate", o.vendor, "--listen", first + ":0", "--across", "addresses", "--devices",
        std::to_string(k), "--seed", std::to_string(from / o.per_sim + 1)}));
    for (int i = 0; i < k; ++i) {
      auto l = sims.back()->line(seconds(120));
      const std::string prefix = "listening on http://";
      if (!l || l->rfind(prefix, 0) != 0 || l->rfind(':') < prefix.size()) {
        auto said = l ? *l : sims.back()->rest_of_stderr();
        while (!said.empty() && said.back() == '\n') said.pop_back();
        stopped = "simulator " + std::to_string(sims.size()) + " did not start its " +
                  std::to_string(k) + " devices from " + first + " after " +
                  std::to_string(endpoints.size()) + " had started (" + said + ")";
        sims.clear();
        std::filesystem::remove_all(dir);
        return false;
      }
      auto colon = l->rfind(':');
      endpoints.emplace_back(l->substr(prefix.size(), colon - prefix.size()), l->substr(colon + 1));
    }
  }
  auto port = test::free_port();
  auto cfg = dir / "load.yaml";
  {
    std::ofstream y(cfg);
    y << "gateway:\n  listen: 127.0.0.1:" << port << "\n  database: " << (dir / "load.db").string()
      << "\nsites:\n  - id: load\n    name: Load\n    timezone: UTC\nconnections:\n";
    for (int i = 0; i < n; ++i)
      y << "  - name: bat-" << i << "\n    vendor: " << o.vendor
        << "\n    host: " << endpoints[static_cast<std::size_t>(i)].first
        << "\n    port: " << endpoints[static_cast<std::size_t>(i)].second
        << "\n    poll_interval: " << o.interval_s << "s\n    timeout: 5s\n"
        << (o.vendor == "kostal" ? "    options:\n      password: owner-password\n" : "");
  }
  // The gateway's log to a file: a pipe nobody drains would stop it.
  test::Process gw({"/bin/sh", "-c",
                    "exec " + o.bin + " run -c " + cfg.string() + " > " +
                        (dir / "gateway.log").string() + " 2>&1"});
  test::Http api(port, seconds(60));
  // Warm-up: every device answered once (at most a few intervals, and a second per 500 devices
  // to start them).
  auto started = steady_clock::now();
  auto limit = seconds(o.interval_s * 3 + n / 500 + 30);
  // The CPU the gateway and the simulators take, read at each turn: when the warm-up does not
  // finish, the last 30 s of it tell whether this machine's cores were the limit.
  auto all_cpu = [&] {
    std::pair<double, double> c{cpu_seconds(gw.pid()), 0};
    for (const auto& sim : sims) c.second += std::max(0.0, cpu_seconds(sim->pid()));
    return c;
  };
  std::vector<std::pair<steady_clock::time_point, std::pair<double, double>>> cpu_seen;
  std::optional<Figures> f, seen;  // the last answer, the last answer that came
  int unanswered = 0;
  std::string why_unanswered;
  while (steady_clock::now() - started < limit) {
    f = health(api, &why_unanswered);
    if (f) seen = f;
    unanswered += !f;
    cpu_seen.emplace_back(steady_clock::now(), all_cpu());
    if (f && f->connections == n && f->ok == n) break;
    int status = 0;
    if (waitpid(gw.pid(), &status, WNOHANG) == gw.pid()) {
      std::ifstream log(dir / "gateway.log");
      std::string text((std::istreambuf_iterator<char>(log)), {});
      stopped = "the gateway stopped during its start: " + text.substr(0, 600);
      return false;
    }
    std::this_thread::sleep_for(seconds(1));
  }
  if (!f || f->ok != n) {
    char cores[200] = "";
    // From the last reading at least 30 s before the end (a slow health read may space them
    // far apart), else the first.
    auto from = cpu_seen.begin();
    for (auto it = cpu_seen.begin(); it != cpu_seen.end(); ++it)
      if (it->first <= cpu_seen.back().first - seconds(30)) from = it;
    if (cpu_seen.size() > 1) {
      const double dt = duration<double>(cpu_seen.back().first - from->first).count();
      std::snprintf(
          cores, sizeof cores,
          "; over the last %.0f s of it the gateway took %.2f cores and the simulators %.2f, "
          "of %u here",
          dt, (cpu_seen.back().second.first - from->second.first) / dt,
          (cpu_seen.back().second.second - from->second.second) / dt,
          std::thread::hardware_concurrency());
    }
    stopped = "after a warm-up of " + std::to_string(limit.count()) + " s only " +
              std::to_string(seen ? seen->ok : 0) + " of " + std::to_string(n) +
              " connections were ok at once (" + std::to_string(unanswered) +
              " health reads failed" +
              (unanswered > 0 ? ", the last: " + why_unanswered : std::string()) + ")" + cores +
              " (see " + (dir / "gateway.log").string() + ")";
    return false;
  }
  auto warm = duration<double>(steady_clock::now() - started).count();
  const pid_t pid = gw.pid();
  // Each count is read the same way at both ends (the answer's own time to build and send is
  // alike), and the gateway's CPU around the window only, not for those answers.
  auto asked = steady_clock::now();
  auto first = health(api);
  auto t0 = steady_clock::now();
  auto cpu0 = cpu_seconds(pid);
  if (!first) {
    stopped = "the gateway's API did not answer at the start of the window";
    return false;
  }
  auto before = *first;
  std::this_thread::sleep_until(asked + seconds(o.window_s));
  auto t1 = steady_clock::now();
  auto cpu1 = cpu_seconds(pid);
  auto after = health(api);
  auto wall = duration<double>(t1 - asked).count();  // between the two readings of the counts
  const double cpu_wall = duration<double>(t1 - t0).count();
  long rss = status_kb(pid, "VmRSS"), hwm = status_kb(pid, "VmHWM");
  if (!after) {
    stopped = "the gateway's API did not answer at the end of the window";
    return false;
  }
  // One Prometheus scrape: its size, and the gateway's CPU for it (the polls' share in the same
  // time taken out at the window's rate).
  auto cpu_s0 = cpu_seconds(pid);
  auto s0 = steady_clock::now();
  net::TestIo scrape_io{1};
  net::HttpClient scraper(scrape_io.executor(),
                          net::HttpClientOptions{.request_timeout = seconds(120),
                                                 .max_body_bytes = std::size_t{1} << 30});
  // As Prometheus scrapes: gzip asked for.
  auto scrape = scrape_io.run(
      scraper.request({"127.0.0.1", port, false},
                      net::HttpRequest{"GET", "/metrics", {{"Accept-Encoding", "gzip"}}, {}}));
  auto scrape_wall = duration<double>(steady_clock::now() - s0).count();
  auto scrape_cpu = cpu_seconds(pid) - cpu_s0 - scrape_wall * (cpu1 - cpu0) / cpu_wall;
  double scrape_mb = -1, scrape_text_mb = -1;
  bool gzipped = false;
  if (scrape && scrape->status == 200) {
    scrape_mb = static_cast<double>(scrape->body.size()) / 1e6;
    gzipped = scrape->header("Content-Encoding") == "gzip";
    auto text = gzipped ? net::gunzip(scrape->body) : Result<std::string>(scrape->body);
    if (text) scrape_text_mb = static_cast<double>(text->size()) / 1e6;
  }
  const double due = static_cast<double>(n) * wall / o.interval_s;
  const auto done = after->polls - before.polls;
  const auto late = after->late - before.late;
  const double cores = (cpu1 - cpu0) / cpu_wall;
  std::printf(
      "N=%-7d window %4.0f s  gateway %.3f cores  RSS %6.1f MB (peak %.1f, %.1f KB a device)  "
      "polls due %.0f done %lld late %lld  samples stored %.0f/s  /metrics %.2f MB %s "
      "(%.2f MB text) in %.3f s (%.3f CPU-s)  (warm-up %.0f s)\n",
      n, wall, cores, rss / 1024.0, hwm / 1024.0, static_cast<double>(rss) / n, due,
      static_cast<long long>(done), static_cast<long long>(late),
      static_cast<double>(after->samples - before.samples) / wall, scrape_mb,
      gzipped ? "gzip" : "sent", scrape_text_mb, scrape_wall, std::max(0.0, scrape_cpu), warm);
  std::fflush(stdout);
  short_of_polls = static_cast<double>(done) < o.min_polls * std::floor(due);
  gw.signal(SIGINT);
  gw.wait(seconds(60));
  sims.clear();
  std::filesystem::remove_all(dir);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  CLI::App app{"The load harness: one gateway polling N simulated batteries or inverters", "load"};
  app.add_option("--vendor", opts.vendor,
                 "the devices: sonnen batteries or KOSTAL inverters (the simulators' default "
                 "password)")
      ->check(CLI::IsMember({"sonnen", "kostal"}))
      ->capture_default_str();
  app.add_option("--devices", opts.devices, "N[,N...]: the runs, one after the other")
      ->delimiter(',')
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--window", opts.window_s, "seconds measured")->check(CLI::Range(1, 1'000'000));
  app.add_option("--interval", opts.interval_s, "poll interval, seconds")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--per-sim", opts.per_sim, "devices a simulator process")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--bin", opts.bin, "the sunbridge binary");
  app.add_option("--min-polls", opts.min_polls,
                 "exit 1 when an N did fewer than this share of its due polls")
      ->check(CLI::Range(0.0, 1.0));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help, or a bad option named on stderr
  }
  std::printf(
      "load: %s devices polled every %d s by one gateway (SQLite), %d s window, "
      "%d devices a simulator; %u cores here\n",
      opts.vendor.c_str(), opts.interval_s, opts.window_s, opts.per_sim,
      std::thread::hardware_concurrency());
  std::fflush(stdout);
  bool short_of_polls = false;
  for (int n : opts.devices) {
    std::string stopped;
    bool short_here = false;
    if (!run_one(opts, n, stopped, short_here)) {
      std::printf("N=%-7d not run: %s\n", n, stopped.c_str());
      return 1;
    }
    short_of_polls |= short_here;
  }
  if (short_of_polls) {
    std::printf("load: an N did fewer than %.0f %% of its due polls\n", opts.min_polls * 100);
    return 1;
  }
  return 0;
}
