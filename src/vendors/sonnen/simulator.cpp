#include "vendors/sonnen/simulator.hpp"

#include "sim/http_faults.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>

namespace sb::sonnen {

namespace asio = boost::asio;

namespace {

// The seed shows the setpoint reply as text/html with an 18-byte body; ours is
// `{"ReturnCode": 0}\n`, 18 bytes (docs/vendors/sonnen.md, Decisions).
constexpr const char* kReplyType = "text/html; charset=UTF-8";

net::ServerResponse reply(int http_status, ReturnCode code) {
  return net::ServerResponse::text(http_status, return_code_body(code), kReplyType);
}

// A setpoint path segment: digits only, as the seed's examples (watts, integer, >= 0).
std::optional<int> parse_watts(const std::string& s) {
  if (s.empty() || s.size() > 7 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoi(s);
}

}  // namespace

Simulator::Simulator(asio::any_io_executor executor, const Clock& clock, sim::SiteConfig site,
                     sim::FaultSpec faults, SimOptions options)
    : sim::HttpSimulator(executor, faults),
      clock_(clock),
      site_(std::move(site), clock.now()),
      options_(std::move(options)) {
  // What a sonnenBatterie 10 answers out of the box (protocols.md §3.3): self-consumption,
  // no backup reserve, no time-of-use schedule.
  config_ = {{"EM_OperatingMode", "2"},
             {"EM_USOC", "0"},
             {"EM_ToU_Schedule", "[]"},
             {"EM_Prognosis_Charging", "0"},
             {"EM_RE_ENABLE_MICROGRID", "False"},
             {"EM_US_GEN_POWER_SET_POINT", "0"},
             {"EM_USER_INPUT_TIME_ONE", "0"},
             {"EM_USER_INPUT_TIME_TWO", "0"},
             {"EM_USER_INPUT_TIME_THREE", "0"},
             {"IC_BatteryModules", "4"},
             {"IC_InverterMaxPower_w",
              std::to_string(std::lround(site_.config().battery.max_discharge_w))},
             {"CM_MarketingModuleCapacity",
              std::to_string(std::lround(site_.config().battery.capacity_wh))},
             {"CN_CascadingRole", "none"},
             {"DE_Software", options_.software},
             {"NVM_PfcIsFixedCosPhiActive", "0"},
             {"NVM_PfcFixedCosPhi", "0.8"},
             {"NVM_PfcIsFixedCosPhiLagging", "0"},
             {"SH_HeaterOperatingMode", "0"},
             {"SH_HeaterTemperatureMax", "80"},
             {"SH_HeaterTemperatureMin", "0"}};
  apply_configuration_locked();
}

void Simulator::advance_locked() {
  auto now = clock_.now();
  site_.advance_to(now);
  if (options_.setpoint_timeout.count() > 0 && config_["EM_OperatingMode"] == "1" &&
      site_.battery_setpoint() && *site_.battery_setpoint() != 0 &&
      now - setpoint_at_ > options_.setpoint_timeout)
    site_.set_battery_setpoint(0.0);  // not renewed: the battery stops
}

std::string Simulator::configuration(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = config_.find(key);
  return it == config_.end() ? "" : it->second;
}

void Simulator::set_vpp_priority(bool on) {
  std::lock_guard lock(mutex_);
  options_.vpp_priority = on;
}

Simulator::~Simulator() {
  stop();
}

StatusV1 Simulator::status() {
  std::lock_guard lock(mutex_);
  return status_locked();
}

StatusV1 Simulator::status_locked() {
  auto now = clock_.now();
  advance_locked();
  const auto& st = site_.state();
  const auto& b = site_.config().battery;
  StatusV1 s;
  s.Consumption_W = st.load_w;
  s.Fac = st.frequency_hz;
  s.IsSystemInstalled = 1;
  s.Pac_total_W = st.battery_w;
  s.Production_W = st.pv_w;
  s.RSOC = st.soc_percent;
  // USOC is the share of the usable window above the hardware floor (protocols.md §3.4:
  // clients treat it as "the" SoC; real devices show it a little below RSOC).
  s.USOC = std::clamp((st.soc_percent - b.min_soc_percent) / (100.0 - b.min_soc_percent) * 100.0,
                      0.0, 100.0);
  s.Timestamp = site_.local_time_string(now);
  s.Uac = st.ac_voltage_v;
  s.Ubat = st.battery_voltage_v;
  return s;
}

std::shared_ptr<net::Router> Simulator::routes() {
  auto r = std::make_shared<net::Router>();
  // Every request passes the fault plan first.
  auto guarded = [this](auto handler) {
    return sim::with_faults(http_->gate(), faults_, requests_,
                            {[] { return reply(500, ReturnCode::InternalError); }, {}}, handler);
  };

  auto status_handler = guarded([this](net::ServerRequest&) {
    return net::ServerResponse::json(200, serialize_status(this->status()));
  });
  // The seed's text says "api/status", its example "/api/v1/status": both answer.
  r->get("/api/v1/status", status_handler);
  r->get("/api/status", status_handler);

  auto setpoint = guarded([this](net::ServerRequest& req) {
    const auto& dir = req.params["direction"];
    if (dir != "charge" && dir != "discharge") return reply(404, ReturnCode::InvalidPath);
    auto watts = parse_watts(req.params["watts"]);
    std::lock_guard lock(mutex_);
    advance_locked();
    const auto& b = site_.config().battery;
    double limit = dir == "charge" ? b.max_charge_w : b.max_discharge_w;
    // Not a whole number of watts, or beyond the rating: an invalid path for this device.
    if (!watts || *watts > limit) return reply(400, ReturnCode::InvalidPath);
    site_.set_battery_setpoint(dir == "charge" ? -double(*watts) : double(*watts));
    setpoint_at_ = clock_.now();
    return reply(200, ReturnCode::Ok);
  });
  // The seed's text spells the path "api/V1/…", its curl examples "/api/v1/…".
  r->put("/api/v1/setpoint/{direction}/{watts}", setpoint);
  r->put("/api/V1/setpoint/{direction}/{watts}", setpoint);
  routes_v2(*r);

  sim::set_fallbacks(
      *r, http_->gate(), requests_, [] { return reply(404, ReturnCode::InvalidPath); },
      [] { return reply(405, ReturnCode::InvalidMethod); });
  return r;
}

}  // namespace sb::sonnen
