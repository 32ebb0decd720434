// What the Enphase simulator's translation units share: the error bodies, query parsing and
// the systems' local days. Internal to src/vendors/enphase.
#pragma once

#include <date/tz.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "net/http.hpp"
#include "net/json.hpp"

namespace sb::enphase::detail {

namespace json = boost::json;

inline net::ServerResponse e1(int code, const char* message, std::string details) {
  return net::ServerResponse::json(
      code, net::to_json(json::object{
                {"message", message}, {"details", std::move(details)}, {"code", code}}));
}
inline net::ServerResponse e3(int code, const char* message) {
  return net::ServerResponse::json(
      code, net::to_json(
                json::object{{"message", json::array{message}}, {"reason", std::to_string(code)}}));
}
inline net::ServerResponse not_authorized(std::string details) {
  return e1(401, "Not Authorized", std::move(details));
}
inline net::ServerResponse unprocessable(std::string details) {
  return e1(422, "Unprocessable Entity", std::move(details));
}
inline net::ServerResponse ok(const json::value& v) {
  return net::ServerResponse::json(200, net::to_json(v));
}

/// The EV charger's errors (E4): the code as a string, declared application/octet-stream.
inline net::ServerResponse e4(int code, const char* message, json::value details) {
  auto r = net::ServerResponse::json(
      code,
      net::to_json(json::object{
          {"message", message}, {"code", std::to_string(code)}, {"details", std::move(details)}}));
  r.content_type = "application/octet-stream";
  return r;
}

/// live_data's errors (E7), sent as application/json as the document's descriptions say.
inline net::ServerResponse e7(int code, const char* status, const char* type, std::string message,
                              TimePoint now) {
  auto ms = to_ms(now);
  auto utc = format_iso8601(now);  // 2023-03-17T08:25:08.556Z -> 2023-03-17 08:25:08.556
  if (utc.size() >= 23) utc = utc.substr(0, 10) + " " + utc.substr(11, 12);
  // The status line's phrase from the status: INVALID_DURATION -> "Invalid Duration".
  std::string reason;
  for (std::size_t i = 0; status[i]; ++i)
    reason += status[i] == '_' ? ' '
              : i == 0 || status[i - 1] == '_'
                  ? status[i]
                  : static_cast<char>(std::tolower(static_cast<unsigned char>(status[i])));
  auto r = net::ServerResponse::json(
      code,
      net::to_json(json::object{{"error", json::object{{"code", code},
                                                       {"status", status},
                                                       {"message", std::move(message)},
                                                       {"details", json::array{json::object{}}}}},
                                {"timestamp_epoch", ms},
                                {"timestamp_utc", utc},
                                {"type", type}}));
  r.reason = std::move(reason);
  return r;
}

inline std::int64_t epoch_s(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The devices' serial numbers, from the system id: the microinverters', the IQ Batteries', the
// AC Batteries' and the EV charger's.
inline std::int64_t device_base(std::int64_t system) {
  return system % 1000 * 100;
}
inline std::string micro_serial(std::int64_t system, int i) {
  return std::to_string(482'100'000'000 + device_base(system) + i);
}
inline std::string encharge_serial(std::int64_t system, int i) {
  return std::to_string(121'593'620'000 + device_base(system) + i);
}
inline std::string acb_serial(std::int64_t system, int i) {
  return std::to_string(121'437'010'000 + device_base(system) + i);
}
inline std::string ev_serial(std::int64_t system) {
  return std::to_string(202'313'029'000 + device_base(system));
}

// A whole number from a query parameter, within lo..hi; nullopt when absent, an error text
// when not a whole number in range.
struct IntParam {
  std::optional<std::int64_t> value;
  std::string error;
};
inline IntParam int_param(const net::ServerRequest& req, const std::string& key, std::int64_t lo,
                          std::int64_t hi) {
  auto it = req.query.find(key);
  if (it == req.query.end()) return {};
  const auto& s = it->second;
  if (s.empty() || s.size() > 18 ||
      s.find_first_not_of("0123456789", s[0] == '-' ? 1 : 0) != std::string::npos)
    return {std::nullopt, key + " must be an integer"};
  auto v = std::stoll(s);
  if (v < lo || v > hi)
    return {std::nullopt,
            key + " must be between " + std::to_string(lo) + " and " + std::to_string(hi)};
  return {v, ""};
}

struct LocalDays {
  const date::time_zone* zone;
  date::local_days day(TimePoint t) const { return date::floor<date::days>(zone->to_local(t)); }
  TimePoint start(date::local_days d) const {
    return std::chrono::time_point_cast<Millis>(zone->to_sys(d, date::choose::earliest));
  }
};

// Enlighten's event types as the simulator knows them (events, alarms, event_types).
struct SimEventType {
  int id;
  const char* key;
  bool stateful;
  const char* name;
  const char* description;
  const char* action;
  int severity;  // of the alarm it raises: 1 FATAL .. 6 NONE
};
// A few of Enlighten's event types: enough for the simulated systems' events.
constexpr SimEventType kEventTypes[] = {
    {28, "envoy_no_report", true, "Gateway not reporting",
     "The broadband Internet connection that the Enphase gateway uses to communicate to the "
     "Enphase servers is experiencing a problem.",
     "Check that your gateway and Internet router are powered on and connected.", 3},
    {502, "pcu_no_report", true, "Microinverter not reporting",
     "A microinverter has not reported to the gateway.",
     "Check the breaker of the PV circuit; contact your installer if it persists.", 3},
    {1003, "encharge_low_soc", false, "Battery low state of charge",
     "The battery reached its reserve.", "None: the battery recharges from PV.", 4},
    {1101, "grid_outage", true, "Grid outage",
     "The utility grid is down; the system runs on backup.",
     "None: the system reconnects when the grid is back.", 2}};
inline const SimEventType* event_type(int id) {
  for (const auto& t : kEventTypes)
    if (t.id == id) return &t;
  return nullptr;
}

}  // namespace sb::enphase::detail
