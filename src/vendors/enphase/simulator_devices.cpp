// The Enphase simulator's meter and device operations (production meter readings, RGM stats, a
// single microinverter's, AC Battery's or IQ Battery's telemetry) and the live_data stream. All
// figures come from the same 5-minute slots as the site-level series.
#include <date/date.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "net/http_server.hpp"
#include "sim/http_faults.hpp"
#include "vendors/enphase/simulator.hpp"
#include "vendors/enphase/simulator_detail.hpp"

namespace sb::enphase {

namespace json = boost::json;
using namespace std::chrono;
using namespace detail;

Simulator::DayEnergy Simulator::energy_until(System& s, TimePoint t) {
  auto today = history_locked(s, clock_.now());
  LocalDays L{s.zone};
  auto first = L.day(from_ms(s.operational_at * 1000));
  auto day = L.day(t);
  DayEnergy e;
  auto n = std::min<std::int64_t>((day - first).count(), static_cast<std::int64_t>(s.days.size()));
  for (std::int64_t i = 0; i < n; ++i) {
    e.add_flows(s.days[static_cast<std::size_t>(i)]);
  }
  if (n >= 0) {
    double stored = n < static_cast<std::int64_t>(s.days.size())
                        ? s.days[static_cast<std::size_t>(n)].stored_start
                        : today.stored_start;
    auto part = slots(s, L.start(day), t, stored);
    e.add_flows(part);
    e.stored_end = part.stored_end;
  }
  return e;
}

void Simulator::add_device_routes(net::Router& r) {
  // The production meter's lifetime register as of end_at (default now), read on the last
  // 15-minute mark before it.
  r.get(
      "/api/v4/systems/{system_id}/production_meter_readings",
      api_route(Style::Quota, [this](net::ServerRequest& req, const std::string& user) {
        return in_system(Style::Quota, req, user, [&](System& s) {
          auto now = epoch_s(clock_.now());
          auto end = now;
          if (auto it = req.query.find("end_at"); it != req.query.end()) {
            auto v = int_param(req, "end_at", 0, 99'999'999'999);
            if (!v.error.empty()) return unprocessable("Failed to parse date " + it->second);
            end = std::min(*v.value, now);
          }
          auto read_at = std::max(end / 900 * 900, s.operational_at);
          auto e = energy_until(s, from_ms(read_at / 300 * 300 * 1000));
          json::array readings;
          readings.push_back(json::object{{"serial_num", s.cfg.envoy_serial + "EIM1"},
                                          {"value", std::llround(e.pv)},
                                          {"read_at", read_at}});
          return ok(json::object{
              {"system_id", s.cfg.id}, {"meter_readings", std::move(readings)}, {"meta", meta(s)}});
        });
      }));

  // Revenue-grade meter stats: 15-minute intervals between start_at and end_at (rounded down to
  // the quarter hour), at most a week. While the gateway is not reporting the data of the hours
  // it missed is "temporarily unavailable" (the E8 500).
  r.get("/api/v4/systems/{system_id}/rgm_stats",
        api_route(Style::Rgm, [this](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Rgm, req, user, [&](System& s) {
            auto now = clock_.now();
            LocalDays L{s.zone};
            auto start = L.start(L.day(now));
            std::optional<TimePoint> end;
            for (auto [key, out] : {std::pair{"start_at", &start}}) {
              if (!req.query.contains(key)) continue;
              auto v = int_param(req, key, 0, 99'999'999'999);
              if (!v.error.empty())
                return unprocessable("Invalid request because of '" + v.error + "'");
              *out = from_ms(*v.value / 900 * 900 * 1000);
            }
            if (req.query.contains("end_at")) {
              auto v = int_param(req, "end_at", 0, 99'999'999'999);
              if (!v.error.empty())
                return unprocessable("Invalid request because of '" + v.error + "'");
              end = from_ms(*v.value / 900 * 900 * 1000);
            }
            if (start > now || start < now - hours(24 * 731) || (end && *end < start))
              return unprocessable("Requested date range is invalid for this system");
            auto first = L.start(L.day(from_ms(s.operational_at * 1000)));
            if (start < first) start = first;
            auto stop = std::min({end.value_or(now), now, start + hours(24 * 7)});
            auto e_now = epoch_s(now);
            for (const auto& ev : events_)
              if (ev.system == s.cfg.id && ev.type == 28 && ev.start <= e_now &&
                  (!ev.end || *ev.end > e_now) && ev.start < epoch_s(stop))
                return error_body(Style::Rgm, 500, "");
            Window w{start, stop, false, "day"};
            json::array totals, channel;
            for (const auto& [t, x] : intervals(s, w, minutes(15))) {
              auto wh = std::llround(x.pv);
              totals.push_back(
                  json::object{{"end_at", epoch_s(t)}, {"devices_reporting", 1}, {"wh_del", wh}});
              channel.push_back(json::object{
                  {"channel", 1}, {"end_at", epoch_s(t)}, {"wh_del", wh}, {"curr_w", wh * 4}});
            }
            json::array meters{json::object{{"meter_serial_number", s.cfg.envoy_serial + "EIM1"},
                                            {"envoy_serial_number", s.cfg.envoy_serial},
                                            {"intervals", std::move(channel)}}};
            return ok(json::object{{"system_id", s.cfg.id},
                                   {"total_devices", 1},
                                   {"meta", meta(s)},
                                   {"intervals", std::move(totals)},
                                   {"meter_intervals", std::move(meters)}});
          });
        }));

  // One device's telemetry: the system's figures shared equally among its devices of the kind.
  r.get("/api/v4/systems/{system_id}/devices/micros/{serial_no}/telemetry",
        api_route(Style::Quota, [this](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Quota, req, user, [&](System& s) {
            const auto& sn = req.params["serial_no"];
            bool known = false;
            for (int i = 0; i < s.cfg.micros && !known; ++i)
              known = micro_serial(s.cfg.id, i) == sn;
            if (!known) return e1(404, "Not Found", "Micro not found for {:id=>\"" + sn + "\"}");
            auto win = window(req, s);
            if (auto* e = std::get_if<net::ServerResponse>(&win)) return *e;
            const auto& w = std::get<Window>(win);
            auto o = envelope(s, w, 1);
            o["serial_number"] = sn;
            json::array list;
            for (const auto& [end, x] : intervals(s, w, minutes(5))) {
              double wh = x.pv / s.cfg.micros;
              list.push_back(json::object{{"end_at", epoch_s(end)},
                                          {"powr", std::lround(wh * 12)},
                                          {"enwh", std::lround(wh)}});
            }
            o["intervals"] = std::move(list);
            return ok(o);
          });
        }));
  for (auto [kind, label, acb] :
       {std::tuple{"acbs", "ACB", true}, {"encharges", "Encharge", false}}) {
    r.get(std::string("/api/v4/systems/{system_id}/devices/") + kind + "/{serial_no}/telemetry",
          api_route(
              Style::Quota, [this, label, acb](net::ServerRequest& req, const std::string& user) {
                return in_system(Style::Quota, req, user, [&](System& s) {
                  const auto& sn = req.params["serial_no"];
                  int count = acb ? s.cfg.acbs : s.cfg.encharges;
                  bool known = false;
                  for (int i = 0; i < count && !known; ++i)
                    known = (acb ? acb_serial(s.cfg.id, i) : encharge_serial(s.cfg.id, i)) == sn;
                  if (!known)
                    return e1(404, "Not Found",
                              std::string(label) + " not found for {:id=>\"" + sn + "\"}");
                  auto win = window(req, s);
                  if (auto* e = std::get_if<net::ServerResponse>(&win)) return *e;
                  const auto& w = std::get<Window>(win);
                  auto o = envelope(s, w, 1);
                  o["serial_number"] = sn;
                  double share = 1.0 / s.cfg.batteries();
                  double cap = s.cfg.site.battery.capacity_wh;
                  json::array list;
                  for (const auto& [end, x] : intervals(s, w, minutes(15)))
                    list.push_back(json::object{
                        {"end_at", epoch_s(end)},
                        {"charge", json::object{{"enwh", std::lround(x.charge * share)}}},
                        {"discharge", json::object{{"enwh", std::lround(x.discharge * share)}}},
                        {"soc", json::object{{"percent", std::lround(x.stored_end / cap * 100)}}}});
                  o["intervals"] = std::move(list);
                  auto last = energy_until(s, from_ms(last_report() * 1000));
                  o["last_reported_time"] = last_report();
                  o["last_reported_soc"] =
                      std::to_string(std::lround(last.stored_end / cap * 100)) + "%";
                  return ok(o);
                });
              }));
  }
}

std::string Simulator::live_message(std::int64_t system) {
  std::lock_guard lock(mutex_);
  auto* s = system_locked(system);
  if (!s) return {};
  auto now = clock_.now();
  auto slot = from_ms(to_ms(now) / 300'000 * 300'000);
  auto before = energy_until(*s, slot);
  std::vector<std::pair<TimePoint, DayEnergy>> one;
  slots(*s, slot, slot + minutes(5), before.stored_end, &one);
  DayEnergy x = one.empty() ? DayEnergy{} : one.front().second;
  const auto& st = s->settings_at(epoch_s(now));
  auto e = epoch_s(now);
  bool outage = std::any_of(events_.begin(), events_.end(), [&](const SysEvent& ev) {
    return ev.system == system && ev.type == 1101 && ev.start <= e && (!ev.end || *ev.end > e);
  });
  auto utc = format_iso8601(now);
  if (utc.size() >= 23) utc = utc.substr(0, 10) + " " + utc.substr(11, 12);
  double cap = s->cfg.site.battery.capacity_wh;
  json::object data{
      {"battery_mode", st.mode},
      {"battery_power", std::lround((x.discharge - x.charge) * 12)},
      {"battery_soc", s->cfg.batteries() > 0 ? std::lround(before.stored_end / cap * 100) : 0},
      {"consumption_power", std::lround(x.load * 12)},
      {"envoy_serial_number", json::array{json::value(s->cfg.envoy_serial)}},
      {"generator_power", 0},
      {"grid_power", std::lround((x.import - x.export_) * 12)},
      {"grid_status", outage ? "Off Grid" : "On Grid"},
      {"pv_power", std::lround(x.pv * 12)},
      {"system_id", system}};
  json::object msg{{"data", std::move(data)},
                   {"timestamp_epoch", to_ms(now)},
                   {"timestamp_utc", utc},
                   {"type", "response"}};
  return "data: " + json::serialize(msg) + "\n\n";
}

// A live_data stream: a message at once and then one a second (live_interval apart in real
// time) until its duration is over, the simulator stops or a cut is due.
class Simulator::LiveStream : public net::BodyStream {
 public:
  LiveStream(Simulator& sim, sim::RequestGate::Pass pass, std::int64_t system, int messages,
             int cut_after)
      : sim_(sim),
        pass_(std::move(pass)),
        state_(sim.http_->gate().state()),
        system_(system),
        left_(messages),
        cut_after_(cut_after) {}

  boost::asio::awaitable<std::optional<std::string>> next(
      const std::atomic<bool>& stopping) override {
    namespace asio = boost::asio;
    if (left_ <= 0 || aborted_) co_return std::nullopt;
    if (sent_ > 0) {
      auto until = steady_clock::now() + sim_.options_.live_interval;
      asio::steady_timer t(co_await asio::this_coro::executor);
      while (steady_clock::now() < until && !state_->is_closed() && !stopping) {
        t.expires_at(std::min(until, steady_clock::now() + milliseconds(20)));
        co_await t.async_wait(asio::use_awaitable);
      }
    }
    if (state_->is_closed() || stopping) co_return std::nullopt;
    auto msg = sim_.live_message(system_);
    --left_;
    ++sent_;
    if (cut_after_ > 0 && sent_ == cut_after_) {  // half a message, then the connection goes
      aborted_ = true;
      co_return msg.substr(0, msg.size() / 2);
    }
    co_return msg;
  }
  bool aborted() const override { return aborted_; }

 private:
  Simulator& sim_;
  sim::RequestGate::Pass pass_;  // the simulator stays alive while the stream runs
  std::shared_ptr<sim::RequestGate::State> state_;
  std::int64_t system_;
  int left_;
  int sent_ = 0;
  int cut_after_;
  bool aborted_ = false;
};

void Simulator::add_live_route(net::Router& r) {
  // The stream's length in the `duration` request header: 30 s by default, 30 to 900 (the 462's
  // limit; the description's 300 is not enforced).
  r.get(
      "/api/v4/systems/{system_id}/live_data",
      api_route(Style::Live, [this](net::ServerRequest& req, const std::string& user) {
        return in_system(Style::Live, req, user, [&](System& s) {
          auto now = clock_.now();
          int duration = 30;
          if (auto h = req.header("duration"); !h.empty()) {
            std::string v(h);
            if (v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
              return e7(463, "INVALID_DURATION", "validation_error", "Duration must be an integer",
                        now);
            duration = std::stoi(v);
            if (duration < 30)
              return e7(461, "INVALID_DURATION", "validation_error",
                        "Duration cannot be less than 30", now);
            if (duration > 900)
              return e7(462, "INVALID_DURATION", "validation_error",
                        "Duration cannot be greater than 900", now);
          }
          auto major =
              std::atoi(s.cfg.envoy_firmware.c_str() +
                        (s.cfg.envoy_firmware.find_first_of("0123456789") == std::string::npos
                             ? 0
                             : s.cfg.envoy_firmware.find_first_of("0123456789")));
          if (major < 6)
            return e7(466, "UNSUPPORTED_ENVOY", "validation_error",
                      "Envoy must be active and envoy version must be at least 6.0.0", now);
          if (s.cfg.batteries() > 0 && !s.cfg.consumption_meter)
            return e7(472, "LIVE_STREAM_NOT_SUPPORTED", "validation_error",
                      "The system doesn\u2019t support live stream", now);
          auto e = epoch_s(now);
          for (const auto& ev : events_)
            if (ev.system == s.cfg.id && ev.type == 28 && ev.start <= e && (!ev.end || *ev.end > e))
              return e7(473, "IQ_GATEWAY_NOT_REPORTING", "site_connectivity_error",
                        "IQ gateway is not reporting", now);
          auto pass = sim::RequestGate::enter(http_->gate().state());
          if (!pass) return sim::dropped_response();
          net::ServerResponse res;
          res.content_type = "text/event-stream";
          res.headers.emplace_back("Cache-Control", "no-cache");
          res.stream = std::make_shared<LiveStream>(*this, std::move(*pass), s.cfg.id, duration,
                                                    cut_stream_after_.exchange(0));
          return res;
        });
      }));
}

}  // namespace sb::enphase
