// FoxESS Open API client (foxess.md §5, protocols.md §2): every request signed, the
// {errno, msg, result} envelope unwrapped, errno mapped onto the error taxonomy. One typed
// call per interface this project uses; paging is followed to the end.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "net/http_client.hpp"
#include "net/retry.hpp"
#include "net/token_file.hpp"
#include "vendors/foxess/scheduler.hpp"
#include "vendors/foxess/wire.hpp"

namespace sb::foxess {

namespace asio = boost::asio;

/// The errno of a failed call as an Error: 40400 RateLimited, 40256/41808/41809 Auth, 40257
/// InvalidArgument, 41200/41202/41203 Transport (transient), others Vendor.
Error error_from_errno(int err, std::string_view msg, std::string_view what);

using OAuthTokens = net::OAuthTokens;

class Client {
 public:
  /// With a `sleeper`, a call refused with 40400 is sent once more after the longest pacing
  /// gap (2 s): another process on the same account may have called the same interface just
  /// before. A second refusal is returned.
  Client(net::HttpClient& http, net::Endpoint endpoint, std::string api_key, const Clock& clock,
         Millis timeout, net::Sleeper* sleeper = nullptr);

  /// One signed call; the envelope's `result` on errno 0.
  asio::awaitable<Result<boost::json::value>> call(std::string method, std::string path,
                                                   std::map<std::string, std::string> query,
                                                   std::optional<boost::json::value> body);

  asio::awaitable<Result<std::vector<Plant>>> plants();
  asio::awaitable<Result<PlantDetail>> plant(std::string station_id);
  asio::awaitable<Result<std::vector<Device>>> devices();
  asio::awaitable<Result<DeviceDetail>> device(std::string sn);
  /// Variable name -> unit, from variable/get.
  asio::awaitable<Result<std::map<std::string, std::string>>> variables();
  /// v1 batch real-time query: up to 50 SNs per call (more are split); empty variables: all.
  asio::awaitable<Result<std::vector<RealTime>>> real_time(std::vector<std::string> sns,
                                                           std::vector<std::string> variables);
  asio::awaitable<Result<std::vector<Series>>> history(std::string sn,
                                                       std::vector<std::string> variables,
                                                       TimePoint begin, TimePoint end);
  asio::awaitable<Result<std::vector<ReportSeries>>> report(std::string sn, std::string dimension,
                                                            int year, int month, int day,
                                                            std::vector<std::string> variables);
  asio::awaitable<Result<Generation>> generation(std::string sn);
  /// (minSoc, minSocOnGrid)
  asio::awaitable<Result<std::pair<int, int>>> min_soc(std::string sn);
  asio::awaitable<Result<void>> set_min_soc(std::string sn, int min_soc, int min_soc_on_grid);
  asio::awaitable<Result<Setting>> setting(std::string sn, std::string key);
  asio::awaitable<Result<void>> set_setting(std::string sn, std::string key, std::string value);
  asio::awaitable<Result<AccessCount>> access_count();

  // Power stations
  asio::awaitable<Result<PlantCreated>> create_plant(PlantSpec spec);
  asio::awaitable<Result<PlantCreated>> update_plant(std::string station_id, PlantSpec spec);
  asio::awaitable<Result<void>> delete_plant(std::string station_id);
  // Inverters
  /// Fault code -> English text (fault/get).
  asio::awaitable<Result<std::map<int, std::string>>> fault_codes();
  /// The deprecated v0 real-time query: one SN, or every device of the account when empty.
  asio::awaitable<Result<std::vector<RealTime>>> real_time_v0(std::string sn,
                                                              std::vector<std::string> variables);
  asio::awaitable<Result<ForceCharge>> force_charge(std::string sn);
  asio::awaitable<Result<void>> set_force_charge(std::string sn, ForceCharge windows);
  asio::awaitable<Result<DeviceTime>> device_time(std::string sn);
  asio::awaitable<Result<void>> set_device_time(std::string sn, DeviceTime t);
  asio::awaitable<Result<PeakShavingSetting>> peak_shaving(std::string sn);
  /// import_limit in the unit peak_shaving() reports.
  asio::awaitable<Result<void>> set_peak_shaving(std::string sn, double import_limit, int soc);
  // Scheduler: v1 unless `v1` is false (the deprecated v0 paths)
  asio::awaitable<Result<SchedulerFlag>> scheduler_flag(std::string sn, bool v1 = true);
  asio::awaitable<Result<void>> set_scheduler_flag(std::string sn, bool enable, bool v1 = true);
  asio::awaitable<Result<Schedule>> scheduler(std::string sn, bool v1 = true);
  /// Replaces the whole schedule (the cloud turns the scheduler on with it).
  asio::awaitable<Result<void>> set_scheduler(std::string sn, std::vector<SchedulerGroup> groups,
                                              bool v1 = true);
  // Data loggers and meters
  asio::awaitable<Result<std::vector<Module>>> modules();
  asio::awaitable<Result<std::vector<Meter>>> meters();
  /// The eight meter settings by name.
  asio::awaitable<Result<std::map<std::string, Setting>>> meter_settings(std::string sn);
  /// `mode` and the settings it allows (feedinPower outside normal; the G100 ones in G100).
  asio::awaitable<Result<void>> set_meter_settings(std::string sn,
                                                   std::map<std::string, std::string> values);

  /// When the pacer is called for a call: before it, once it was answered, or once it was given
  /// up on for want of an answer in time (the cloud may still take it later).
  enum class Pace { Before, Answered, GaveUp };
  /// Called before every call (the retry after a 40400 too) and again after it, with the
  /// interface and whether it is a write: the driver paces the interface there, from the answer
  /// of the call before (net::QuotaPlanner::answered) and across the connections of a fleet's
  /// shared account (net/driver_env.hpp pace_shared).
  using Pacer = std::function<asio::awaitable<void>(std::string interface, bool write, Pace when)>;
  void pace_with(Pacer pacer) { pacer_ = std::move(pacer); }
  /// Whether the cloud counts `path` among its insert/update interfaces (one call in 2 s)
  /// rather than its queries (one a second).
  static bool is_write(std::string_view path);

  // OAuth 2.0 (foxess.md §2.3). With an access token set, calls carry `Authorization: Bearer`
  // and sign with the token in the API key's place.
  void use_access_token(std::string token) { access_token_ = std::move(token); }
  static std::string authorize_url(const net::Endpoint& cloud, const std::string& client_id,
                                   const std::string& redirect_uri, const std::string& scope,
                                   const std::string& state);
  asio::awaitable<Result<OAuthTokens>> exchange_code(std::string client_id,
                                                     std::string client_secret, std::string code,
                                                     std::string redirect_uri);
  asio::awaitable<Result<OAuthTokens>> refresh_tokens(std::string client_id,
                                                      std::string client_secret,
                                                      std::string refresh_token);
  asio::awaitable<Result<void>> revoke(std::string client_id, std::string client_secret,
                                       std::string access_token);

 private:
  asio::awaitable<Result<const boost::json::object*>> call_object(
      std::string method, std::string path, std::map<std::string, std::string> query,
      std::optional<boost::json::value> body, boost::json::value& keep);
  asio::awaitable<Result<void>> call_void(std::string method, std::string path,
                                          std::optional<boost::json::value> body);
  template <class T, class F>
  asio::awaitable<Result<std::vector<T>>> paged(std::string path, std::string what, F item);
  asio::awaitable<Result<OAuthTokens>> token_call(std::string path,
                                                  std::map<std::string, std::string> params);
  net::HttpClient& http_;
  net::Endpoint endpoint_;
  std::string api_key_;
  std::string access_token_;
  asio::awaitable<Result<boost::json::value>> call_once(std::string method, std::string path,
                                                        std::map<std::string, std::string> query,
                                                        std::optional<boost::json::value> body);
  const Clock& clock_;
  Millis timeout_;
  net::Sleeper* sleeper_;
  Pacer pacer_;
};

}  // namespace sb::foxess
