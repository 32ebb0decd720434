// `sunbridge demo --fleet`: a fleet on one machine. Simulated homes across the five vendors
// (each its own simulator on a loopback port, as its own box would be), their sites and
// connections imported into a PostgreSQL database with the settings sealed under a fresh key,
// and several `sunbridge run` workers sharing them; it prints where the fleet page is and how to
// kill a worker and watch its sites move. `make fleet-demo` starts the PostgreSQL for it in a
// temporary folder.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>

#include "cli/commands.hpp"
#include "cli/fleet_demo.hpp"
#include "cli/vendors.hpp"
#include "engine/fleet.hpp"
#include "net/crypto.hpp"
#include "store/fleet.hpp"
#include "store/store.hpp"

namespace sb::cli {

namespace fs = std::filesystem;

namespace {

// A worker: this binary's `run`, its output in its own log file. It gets SIGTERM when the demo
// ends however it ends (a demo killed with SIGKILL leaves no worker behind).
Result<pid_t> spawn_worker(const std::string& config, const std::string& log) {
  std::string self = fs::read_symlink("/proc/self/exe").string();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0)
    return fail(ErrorKind::Internal, "cannot start a worker: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);  // the demo went before the line above
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the demo blocks SIGINT for itself
    ::execl(self.c_str(), self.c_str(), "run", "-c", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Ends the workers (SIGTERM, then SIGKILL after 10 s).
void stop_workers(const std::vector<pid_t>& pids) {
  for (auto p : pids) ::kill(p, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (auto p : pids) {
    for (;;) {
      int status = 0;
      auto r = ::waitpid(p, &status, WNOHANG);
      if (r == p || r < 0) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(p, SIGKILL);
        ::waitpid(p, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace

int fleet_demo(const FleetDemoOptions& o) {
  if (!store::is_postgres(o.db))
    return report(
        "--fleet needs a PostgreSQL database (--db postgresql://USER@HOST:PORT/DB); "
        "`make fleet-demo` starts one in a temporary folder");
  if (o.sites < 5 || o.sites > 2000) return report("--sites must be within 5..2000");
  if (o.workers < 1 || o.workers > 16) return report("--workers must be within 1..16");
  auto hp = engine::parse_host_port(o.listen);
  if (!hp) return report("--listen: " + hp.error().message);
  if (hp->second == 0 || hp->second + o.workers > 65535)
    return report(
        "--listen: the fleet demo needs a fixed first port (workers take it and the "
        "next " +
        std::to_string(o.workers - 1) + ")");

  // Ctrl-C is the demo's own to handle (sigwait below), in every thread it starts: one arriving
  // while the homes start waits until the workers run, then stops everything in order.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto dir = fs::temp_directory_path() / ("sunbridge-fleet-demo-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  auto key_file = (dir / "fleet.key").string();
  auto key = crypto::random_bytes(32);
  {
    std::ofstream(key_file) << crypto::hex(key) << "\n";
    ::chmod(key_file.c_str(), 0600);
  }

  // The homes: one vendor after another, each with its own seed, site and simulator.
  RealClock clock;
  ScaledClock sim_clock(clock.now(), 1);
  // The homes' simulators, spread over a few io threads (each simulator on one of them, as on
  // its own box): one thread cannot answer a thousand homes' first requests (logins, a cloud's
  // lifetime history) within their timeouts.
  const std::size_t sim_threads =
      std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 8);
  std::vector<std::unique_ptr<boost::asio::io_context>> sim_ios;
  for (std::size_t t = 0; t < sim_threads; ++t)
    sim_ios.push_back(std::make_unique<boost::asio::io_context>());
  std::vector<sim::DemoHome> homes;
  std::vector<ConnectionConfig> connections;
  std::vector<Site> sites;
  std::map<std::string, int> per_vendor;
  std::cout << "starting " << o.sites << " simulated homes…\n" << std::flush;
  for (int i = 0; i < o.sites; ++i) {
    const auto& v = vendors()[static_cast<std::size_t>(i) % vendors().size()];
    std::ostringstream n;
    n << std::setw(4) << std::setfill('0') << i + 1;
    sim::DemoRequest request{sim_ios[static_cast<std::size_t>(i) % sim_threads]->get_executor(),
                             &sim_clock,
                             &clock,
                             o.seed + static_cast<std::uint64_t>(i),
                             o.faults,
                             (dir / ("home-" + n.str())).string()};
    auto home = v.demo(request);
    if (!home) return report(v.title + " home " + n.str() + ": " + home.error().message);
    Site s = home->site;
    s.id = s.id + "-" + n.str();
    s.name = s.name + " #" + n.str();
    sites.push_back(s);
    ConnectionConfig c;
    c.name = v.name + "-" + n.str();
    c.vendor = v.name;
    c.site = s.id;
    c.host = "127.0.0.1";
    c.port = home->simulator->port();
    c.poll_interval = home->poll_interval;
    c.timeout = Millis(15'000);  // a busy machine: every home's simulator on a few threads
    c.where = "<fleet demo>";
    c.options = home->options;
    // Each home its own vendor account: a cloud's budget is kept in the database by account,
    // so a connection that moves to another worker goes on spending from the same day's
    // calls (local devices have no budget and ignore it).
    c.account = c.name;
    connections.push_back(std::move(c));
    ++per_vendor[v.name];
    homes.push_back(std::move(*home));
  }
  std::vector<std::thread> sim_pool;
  for (auto& io : sim_ios) sim_pool.emplace_back([&io] { io->run(); });
  // What the demo started, stopped in order (the workers, then the simulators) however it
  // ends. The files the homes wrote go with the demo's folder.
  std::vector<pid_t> pids;
  struct Running {
    std::vector<pid_t>& pids;
    std::vector<sim::DemoHome>& homes;
    std::vector<std::unique_ptr<boost::asio::io_context>>& ios;
    std::vector<std::thread>& threads;
    bool stopped = false;
    void stop() {
      if (std::exchange(stopped, true)) return;
      stop_workers(pids);
      for (auto& h : homes) h.simulator->stop();
      for (auto& io : ios) io->stop();
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
    ~Running() { stop(); }
  } running{pids, homes, sim_ios, sim_pool};

  // Into the database: the sites, and the connections sealed with the key.
  {
    auto st = store::open_postgres(o.db);
    if (!st) return report(st.error().message);
    for (const auto& s : sites)
      if (auto r = (*st)->upsert_site(s); !r) return report(r.error().message);
    (*st)->close();
    auto fleet = store::open_fleet(o.db);
    if (!fleet) return report(fleet.error().message);
    for (const auto& c : connections) {
      auto sealed = engine::seal_connection(c, key);
      if (!sealed) return report(sealed.error().message);
      if (auto r = (*fleet)->put_connection({c.name, c.site, c.vendor, c.account, *sealed, {}}); !r)
        return report(r.error().message);
    }
  }

  auto token = sim::random_hex(32);
  std::vector<std::string> logs;
  for (int k = 0; k < o.workers; ++k) {
    auto cfg = (dir / ("worker-" + std::to_string(k + 1) + ".yaml")).string();
    std::ofstream(cfg) << "# worker " << k + 1
                       << " of the fleet demo\ngateway:\n  database: " << o.db
                       << "\n  listen: " << hp->first << ":" << hp->second + k
                       << "\n  api_token: " << token << "\nfleet:\n  key_file: " << key_file
                       << "\n  lease: " << o.lease_s << "s\n";
    logs.push_back((dir / ("worker-" + std::to_string(k + 1) + ".log")).string());
    auto pid = spawn_worker(cfg, logs.back());
    if (!pid) return report(pid.error().message);
    pids.push_back(*pid);
  }

  // A worker that cannot start (its port taken, the database refusing it) says so in its log
  // at once: the demo stops with that rather than show a fleet short of a worker.
  for (int i = 0; i < 30; ++i) {
    for (std::size_t w = 0; w < pids.size(); ++w) {
      int status = 0;
      if (::waitpid(pids[w], &status, WNOHANG) != pids[w]) continue;
      std::ifstream in(logs[w]);
      std::string line, last;
      while (std::getline(in, line))
        if (!line.empty()) last = line;
      pids.erase(pids.begin() + static_cast<std::ptrdiff_t>(w));  // the others stop on return
      return report("worker " + std::to_string(w + 1) + " stopped at start: " +
                    (last.empty() ? "no message (its log: " + logs[w] + ")" : last));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto base = "http://" + hp->first + ":";
  std::cout << "sunbridge fleet demo: " << o.sites << " sites (";
  std::string sep;
  for (const auto& [v, n] : per_vendor) {
    std::cout << sep << n << " " << v;
    sep = ", ";
  }
  std::cout << "), " << o.workers << " workers, " << store::without_password(o.db) << "\n"
            << "  fleet page  " << base << hp->second << "/fleet   (any worker: ports "
            << hp->second << ".." << hp->second + o.workers - 1 << ")\n"
            << "  API token   " << token << "\n";
  for (int k = 0; k < o.workers; ++k)
    std::cout << "  worker " << k + 1 << "    pid " << pids[static_cast<std::size_t>(k)] << ", "
              << base << hp->second + k << ", log " << logs[static_cast<std::size_t>(k)] << "\n";
  std::cout << "Kill a worker (kill -9 " << pids.front() << "): within the lease (" << o.lease_s
            << " s) and a poll its sites are polled by the others; the page's worker column and "
               "the logs say who took what.\n"
            << "Press Ctrl-C to stop.\n"
            << std::flush;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cout << "stopping…\n" << std::flush;
  running.stop();
  // What the vendors would have refused: calls past a rate limit or quota, counted by the
  // simulators themselves (the fleet's budgets should keep this at 0).
  std::map<std::string, std::uint64_t> over_limit;
  std::uint64_t over_limit_total = 0;
  for (std::size_t i = 0; i < homes.size(); ++i) {
    auto n = homes[i].simulator->over_limit();
    over_limit[connections[i].vendor] += n;
    over_limit_total += n;
  }
  std::cout << "calls refused for a vendor limit, counted at the simulators: " << over_limit_total
            << " (";
  sep.clear();
  for (const auto& [v, n] : over_limit) {
    std::cout << sep << v << " " << n;
    sep = ", ";
  }
  std::cout << ")\nstopped\n";
  return 0;
}

}  // namespace sb::cli
