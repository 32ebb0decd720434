#include "vendors/kostal/vendor.hpp"

#include <sstream>

#include "vendors/kostal/simulator.hpp"

namespace sb::kostal {

namespace {

const std::vector<sim::SimFlag>& flags() {
  static const SimOptions d;
  static const std::vector<sim::SimFlag> f = {
      {"--password", "the plant owner's password", d.owner_password, false},
      {"--master-key", "the installer's master key", d.master_key, false},
      {"--service-code", "the installer's service code", d.service_code, false},
      {"--session-idle", "seconds before an idle session ends",
       std::to_string(d.session_idle.count()), false},
      {"--firmware",
       "'current', or '2019' (process-data units empty, scb:network ids without the Network: "
       "prefix)",
       "current", false},
  };
  return f;
}

Result<sim::Started> simulate(const sim::SimulateRequest& r) {
  SimOptions ko;
  ko.owner_password = r.flag("--password", flags());
  ko.master_key = r.flag("--master-key", flags());
  ko.service_code = r.flag("--service-code", flags());
  auto idle = sim::whole_flag("--session-idle", r.flag("--session-idle", flags()), 1, 86'400);
  if (!idle) return fail(idle.error());
  ko.session_idle = std::chrono::seconds(*idle);
  auto firmware = r.flag("--firmware", flags());
  if (firmware != "current" && firmware != "2019")
    return fail(ErrorKind::InvalidArgument,
                "--firmware must be 'current' or '2019' (not '" + firmware + "')");
  ko.empty_units = ko.legacy_network_ids = firmware == "2019";
  sim::Started started;
  std::ostringstream out;
  std::uint16_t first_port = 0;
  for (int i = 0; i < r.devices; ++i) {
    auto s = r.site;
    s.seed = r.seed + static_cast<std::uint64_t>(i);
    auto opts = ko;
    opts.serial = "90512ABC" + std::to_string(1000 + i);
    auto sim = std::make_unique<Simulator>(r.executor, *r.clock, s, opts, r.faults);
    auto [host, port] = r.endpoint_of(i, first_port);
    if (auto l = sim->listen(host, port); !l) return fail(l.error());
    if (i == 0) first_port = sim->port();
    out << "listening on " << sim->url() << "\n";
    started.simulators.push_back(std::move(sim));
  }
  out << "KOSTAL PLENTICORE plus API: base /api/v1 (auth/start, processdata, settings, "
         "events/latest, logdata/download, ...)\n"
      << "credentials: user password '" << ko.owner_password << "'; master key '" << ko.master_key
      << "' with service code '" << ko.service_code << "'\n";
  started.banner = out.str();
  return started;
}

// A home in Munich with a KOSTAL PLENTICORE plus hybrid inverter and its battery.
Result<sim::DemoHome> demo(const sim::DemoRequest& r) {
  sim::SiteConfig munich;
  munich.latitude = 48.14;
  munich.longitude = 11.58;
  munich.seed = r.seed + 1;
  munich.inverter_max_w = 10'000;
  SimOptions ko;
  auto sim = std::make_unique<Simulator>(r.executor, *r.clock, munich, ko, r.faults);
  if (auto l = sim->listen("127.0.0.1", 0); !l) return fail(l.error());
  sim::DemoHome home;
  home.site = {"munich", "Demo home 2 (Munich)", munich.latitude, munich.longitude,
               munich.timezone};
  home.site.pv = sim::pv_arrays(munich);
  home.poll_interval = Millis(2000);
  home.options = {{"password", ko.owner_password}};
  home.banner =
      "KOSTAL sim  " + sim->url() + "/api/v1/info/version (password " + ko.owner_password + ")";
  home.simulator = std::move(sim);
  return home;
}

}  // namespace

sim::Vendor vendor() {
  return {"kostal", "KOSTAL PLENTICORE plus", true, flags(), simulate, demo, std::nullopt, true};
}

}  // namespace sb::kostal
