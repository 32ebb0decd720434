#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <map>
#include <thread>

#include "cli/commands.hpp"
#include "cli/vendors.hpp"
#include "engine/config.hpp"
#include "sim/faults.hpp"

namespace sb::cli {

namespace {

struct SimulateOptions {
  std::string vendor;
  std::string listen = "127.0.0.1:8080";
  int devices = 1;
  std::string across = "ports";
  std::string faults;
  double speed = 1;
  std::string origin;  ///< a timeline shared with `run --origin`; empty: this process's own
  std::uint64_t seed = 1;
  double latitude = 52.52, longitude = 13.40;
  std::string timezone = "Europe/Berlin";
  double capacity_wh = 10'000, max_power_w = 4'600, cloudiness = 0.3;
  std::map<std::string, std::string> given;  ///< the vendor flags given
};

// Runs the simulators until SIGINT / SIGTERM.
int serve(boost::asio::io_context& io, sim::Started& started) {
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    for (auto& s : started.simulators) s->stop();
    io.stop();
  });
  std::thread second([&] { io.run(); });
  io.run();
  second.join();
  // What a client that keeps to the vendor's limits never sees: calls refused for them.
  std::uint64_t over_limit = 0;
  for (const auto& s : started.simulators) over_limit += s->over_limit();
  std::cout << "calls refused for a vendor limit: " << over_limit << "\nstopped\n";
  return 0;
}

// Whether every device's endpoint exists: consecutive ports end by 65535, consecutive addresses
// start from an IPv4 one and stay within its /8 (127.0.0.0/8 is all loopback on Linux).
Result<void> check_endpoints(const SimulateOptions& o, const std::string& host, std::uint16_t port,
                             const sim::Vendor& vendor) {
  if (o.across != "ports" && o.across != "addresses")
    return fail(ErrorKind::InvalidArgument,
                "--across must be 'ports' or 'addresses' (not '" + o.across + "')");
  if (o.across == "addresses" && !vendor.endpoint_per_device)
    return fail(ErrorKind::InvalidArgument,
                "--across is for simulators whose devices each listen on their own (the " +
                    o.vendor + " simulator serves every device from one endpoint)");
  const auto last = static_cast<std::uint32_t>(o.devices - 1);
  if (o.across == "ports") {
    if (port != 0 && port + last > 65'535)
      return fail(ErrorKind::InvalidArgument,
                  "--devices " + std::to_string(o.devices) + " from port " + std::to_string(port) +
                      " would need ports past 65535; use a lower port or --across addresses");
    return {};
  }
  boost::system::error_code ec;
  auto first = boost::asio::ip::make_address_v4(host, ec);
  if (ec)
    return fail(ErrorKind::InvalidArgument,
                "--across addresses needs an IPv4 address in --listen (not '" + host + "')");
  if ((first.to_uint() >> 24) != ((first.to_uint() + last) >> 24))
    return fail(ErrorKind::InvalidArgument,
                "--devices " + std::to_string(o.devices) + " from " + host +
                    " would leave its /8; start from a lower address (e.g. 127.0.0.1)");
  return {};
}

int simulate(const SimulateOptions& o) {
  const auto* vendor = find_vendor(o.vendor);
  if (!vendor)
    return report("no simulator for vendor '" + o.vendor + "' (valid: " + vendor_names() + ")");
  auto hp = engine::parse_host_port(o.listen);
  if (!hp) return report("--listen: " + hp.error().message);
  auto faults = sim::parse_fault_spec(o.faults);
  if (!faults) return report("--faults: " + faults.error().message);
  auto timeline = simulated_timeline(o.speed, o.origin);
  if (!timeline) return report(timeline.error().message);
  const int most = vendor->endpoint_per_device ? 100'000 : 1'000;
  if (o.devices < 1 || o.devices > most)
    return report("--devices must be within 1.." + std::to_string(most) + " for the " + o.vendor +
                  " simulator (not " + std::to_string(o.devices) + ")");
  if (auto ok = check_endpoints(o, hp->first, hp->second, *vendor); !ok)
    return report(ok.error().message);
  sim::SiteConfig site;
  site.latitude = o.latitude;
  site.longitude = o.longitude;
  site.timezone = o.timezone;
  site.battery.capacity_wh = o.capacity_wh;
  site.battery.max_charge_w = site.battery.max_discharge_w = o.max_power_w;
  site.cloudiness = o.cloudiness;
  if (auto ok = sim::validate(site); !ok) return report(ok.error().message);

  boost::asio::io_context io;
  // Simulated time runs the site (weather, load, battery). On a shared timeline (--origin) the
  // cloud's own clock (tokens, quotas, signatures) runs on it too: the gateway signs and counts
  // in that time. Without one, those stay real, for a gateway on the system clock.
  RealClock wall_clock;
  ScaledClock clock = timeline->value_or(ScaledClock(wall_clock.now(), o.speed));
  const Clock* cloud_clock = o.origin.empty() ? static_cast<const Clock*>(&wall_clock) : &clock;
  sim::SimulateRequest request{
      io.get_executor(),       &clock, cloud_clock, hp->first, hp->second, o.devices,
      o.across == "addresses", o.seed, site,        *faults,   o.given};
  auto started = vendor->simulate(request);
  if (!started) return report(started.error().message);
  std::cout << started->banner << "speed " << o.speed << "x, seed " << o.seed
            << (faults->any() ? ", faults " + to_string(*faults) : "") << "\n"
            << std::flush;
  return serve(io, *started);
}

// "kostal: the plant owner's password (default: owner-password)"; several vendors joined by
// "; ".
std::string flag_help(const std::string& name) {
  std::string help;
  for (const auto& v : vendors())
    for (const auto& f : v.flags)
      if (f.name == name)
        help += (help.empty() ? "" : "; ") + v.name + ": " + f.help +
                (f.fallback.empty() ? "" : " (default: " + f.fallback + ")");
  return help;
}

}  // namespace

void register_simulate(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "simulate", "Serve a faithful simulator of a vendor API over a simulated site");
  auto o = std::make_shared<SimulateOptions>();
  cmd->add_option("vendor", o->vendor, "vendor to simulate (" + vendor_names() + ")")->required();
  cmd->add_option("--listen", o->listen, "HOST:PORT; port 0 picks a free one")
      ->capture_default_str();
  cmd->add_option("--devices", o->devices,
                  "simulated devices (foxess: inverters of one account); kostal and sonnen: up to "
                  "100000, each on its own endpoint (see --across), the clouds: up to 1000")
      ->capture_default_str();
  cmd->add_option("--across", o->across,
                  "kostal, sonnen: devices on consecutive ports of the --listen address "
                  "('ports'), or on consecutive addresses from it at one port ('addresses': "
                  "127.0.0.1, 127.0.0.2, ...; for more devices than one address has free ports)")
      ->capture_default_str();
  cmd->add_option("--faults", o->faults,
                  "e.g. latency=200ms,jitter=50ms,error=0.1,drop=0.05,malformed=0.02,seed=7");
  cmd->add_option("--speed", o->speed, "time acceleration (60 = an hour a minute)")
      ->capture_default_str();
  cmd->add_option("--origin", o->origin,
                  "with --speed: the wall-clock time (ISO 8601) at which simulated time equals "
                  "real time, shared with `sunbridge run --speed S --origin T`; the cloud's "
                  "tokens, quotas and signatures then run on simulated time too");
  cmd->add_option("--seed", o->seed, "weather and load seed; same seed, same site")
      ->capture_default_str();
  // Flags some simulators take and the others refuse, rather than ignore what was asked:
  // the site's, then each vendor's in the order the vendors come.
  std::vector<std::pair<CLI::Option*, std::vector<std::string>>> uses;
  std::vector<std::string> site_users;
  for (const auto& v : vendors())
    if (v.uses_site) site_users.push_back(v.name);
  std::sort(site_users.begin(), site_users.end());
  uses.emplace_back(cmd->add_option("--latitude", o->latitude, "site latitude, degrees north")
                        ->capture_default_str(),
                    site_users);
  uses.emplace_back(cmd->add_option("--longitude", o->longitude, "site longitude, degrees east")
                        ->capture_default_str(),
                    site_users);
  uses.emplace_back(
      cmd->add_option("--timezone", o->timezone, "site time zone (IANA)")->capture_default_str(),
      site_users);
  uses.emplace_back(cmd->add_option("--capacity-wh", o->capacity_wh, "battery capacity, Wh")
                        ->capture_default_str(),
                    site_users);
  uses.emplace_back(
      cmd->add_option("--max-power-w", o->max_power_w, "battery charge/discharge limit, W")
          ->capture_default_str(),
      site_users);
  uses.emplace_back(cmd->add_option("--cloudiness", o->cloudiness, "0 clear .. 1 overcast")
                        ->capture_default_str(),
                    site_users);
  // Each vendor flag is kept as text; the vendor reads it and names it in its errors.
  auto values = std::make_shared<std::map<std::string, std::string>>();
  std::vector<std::pair<CLI::Option*, bool>> vendor_flags;
  for (const auto& v : vendors())
    for (const auto& f : v.flags) {
      if (cmd->get_option_no_throw(f.name)) continue;
      std::vector<std::string> users;
      for (const auto& w : vendors())
        if (std::any_of(w.flags.begin(), w.flags.end(),
                        [&](const sim::SimFlag& g) { return g.name == f.name; }))
          users.push_back(w.name);
      std::sort(users.begin(), users.end());
      auto help = flag_help(f.name);
      auto* opt = f.is_switch ? cmd->add_flag(f.name)->description(help)
                              : cmd->add_option(f.name, (*values)[f.name], help);
      uses.emplace_back(opt, users);
      vendor_flags.emplace_back(opt, f.is_switch);
    }
  cmd->callback([o, &rc, uses, values, vendor_flags] {
    for (const auto& [option, users] : uses) {
      if (option->count() == 0 || std::find(users.begin(), users.end(), o->vendor) != users.end())
        continue;
      std::string list;
      for (const auto& v : users) list += (list.empty() ? "" : ", ") + v;
      rc = report(option->get_name() + " is for the " + list + " simulator" +
                  (users.size() > 1 ? "s" : "") + "; the " + o->vendor +
                  " simulator does not use it");
      return;
    }
    for (const auto& [option, is_switch] : vendor_flags)
      if (option->count() > 0)
        o->given[option->get_name()] = is_switch ? "true" : values->at(option->get_name());
    rc = simulate(*o);
  });
}

}  // namespace sb::cli
