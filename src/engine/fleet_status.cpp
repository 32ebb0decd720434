#include "engine/fleet_status.hpp"

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include "core/commands.hpp"

// The documents are the engine's own structs, described for Boost.JSON: a field added to one of
// them travels without a line of decoding written for it. Times are UTC milliseconds.
namespace boost::json {

inline void tag_invoke(value_from_tag, value& v, const sb::TimePoint& t) {
  v = t.time_since_epoch().count();
}
inline sb::TimePoint tag_invoke(value_to_tag<sb::TimePoint>, const value& v) {
  return sb::TimePoint(sb::Millis(v.to_number<std::int64_t>()));
}
inline void tag_invoke(value_from_tag, value& v, const sb::Name& n) {
  v = n.view();
}
inline sb::Name tag_invoke(value_to_tag<sb::Name>, const value& v) {
  return sb::Name(std::string_view(v.as_string()));
}
inline void tag_invoke(value_from_tag, value& v, const sb::Millis& d) {
  v = d.count();
}
inline sb::Millis tag_invoke(value_to_tag<sb::Millis>, const value& v) {
  return sb::Millis(v.to_number<std::int64_t>());
}

}  // namespace boost::json

namespace sb {

BOOST_DESCRIBE_ENUM(Quality, Measured, Backfilled, Estimated, Stale)
BOOST_DESCRIBE_STRUCT(DeviceInfo, (),
                      (id, site, connection, vendor, kind, manufacturer, model, serial, firmware))
BOOST_DESCRIBE_STRUCT(LiveValue, (), (metric, time, value, quality))
BOOST_DESCRIBE_STRUCT(DeviceLive, (), (device, online, stale, last_success, values))
BOOST_DESCRIBE_STRUCT(CallBudget, (), (used, limit, resets_at))
BOOST_DESCRIBE_STRUCT(ConnectionHealth, (),
                      (name, vendor, site, state, worker, last_success, last_error, polls, failures,
                       consecutive_failures, last_latency_ms, latency_counts, latency_sum_s,
                       failures_by_kind, budget, implausible_values, gaps_found, gaps_open,
                       gaps_unfilled, samples_backfilled, samples_estimated))
BOOST_DESCRIBE_STRUCT(CommandLimits, (), (type, low, high, choices, count))
BOOST_DESCRIBE_STRUCT(Capabilities, (),
                      (live, history, pv_rated_w, history_step, data_interval, setpoint_keepalive,
                       commands, metrics))

// A command by its name ("battery-power"), as everywhere else.
inline void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const CommandType& t) {
  v = to_string(t);
}
inline CommandType tag_invoke(boost::json::value_to_tag<CommandType>, const boost::json::value& v) {
  auto t = parse_command_type(v.as_string());
  if (!t) throw std::invalid_argument("unknown command '" + std::string(v.as_string()) + "'");
  return *t;
}
// A command this version does not know (a newer worker's) is left out of the device's list
// rather than hiding the whole connection.
inline std::vector<CommandLimits> tag_invoke(boost::json::value_to_tag<std::vector<CommandLimits>>,
                                             const boost::json::value& v) {
  std::vector<CommandLimits> out;
  for (const auto& c : v.as_array()) {
    const auto* type = c.as_object().if_contains("type");
    if (type && type->is_string() && !parse_command_type(type->get_string())) continue;
    out.push_back(boost::json::value_to<CommandLimits>(c));
  }
  return out;
}

BOOST_DESCRIBE_STRUCT(Setting, (), (command, value, argument))
BOOST_DESCRIBE_STRUCT(DeviceSettings, (), (device, settings, read_at))

namespace engine {

BOOST_DESCRIBE_STRUCT(RemoteDevice, (), (live, capabilities))
BOOST_DESCRIBE_STRUCT(ConnectionStatus, (), (health, devices))

std::string encode_status(const ConnectionStatus& s) {
  return boost::json::serialize(boost::json::value_from(s));
}

namespace {

// `what` of `where` from a worker's document: a Protocol error naming both when it is not one.
template <class T>
Result<T> decode_document(std::string_view json, const std::string& what, const std::string& where,
                          const char* kind) {
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec) return fail(ErrorKind::Protocol, what + where + ": not JSON (" + ec.message() + ")");
  try {
    return boost::json::value_to<T>(v);
  } catch (const boost::system::system_error& e) {
    return fail(ErrorKind::Protocol,
                what + where + ": not a " + kind + " document (" + e.code().message() + ")");
  } catch (const std::exception& e) {
    return fail(ErrorKind::Protocol,
                what + where + ": not a " + kind + " document (" + e.what() + ")");
  }
}

}  // namespace

Result<ConnectionStatus> decode_status(std::string_view json, const std::string& where) {
  return decode_document<ConnectionStatus>(json, "fleet status of ", where, "status");
}

std::string encode_settings(const DeviceSettings& s) {
  return boost::json::serialize(boost::json::value_from(s));
}

Result<DeviceSettings> decode_settings(std::string_view json, const std::string& where) {
  return decode_document<DeviceSettings>(json, "settings of ", where, "settings");
}

void FleetView::update(std::map<std::string, Entry> statuses,
                       std::vector<store::FleetConnection> connections) {
  std::lock_guard lock(mutex_);
  statuses_ = std::make_shared<const Entries>(std::move(statuses));
  connections_ = std::move(connections);
}

std::optional<FleetView::Entry> FleetView::of(const std::string& connection) const {
  std::lock_guard lock(mutex_);
  if (auto it = statuses_->find(connection); it != statuses_->end()) return it->second;
  return std::nullopt;
}

std::shared_ptr<const FleetView::Entries> FleetView::all() const {
  std::lock_guard lock(mutex_);
  return statuses_;
}

FleetWorkerStats FleetView::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::vector<store::FleetConnection> FleetView::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

}  // namespace engine
}  // namespace sb
