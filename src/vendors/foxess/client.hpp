// FoxESS Open API client (foxess.md §5, protocols.md §2): every request signed, the
// {errno, msg, result} envelope unwrapped, errno mapped onto the error taxonomy. One typed
// call per interface this project uses; paging is followed to the end.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "net/http_client.hpp"
#include "net/retry.hpp"

namespace sb::foxess {

namespace asio = boost::asio;

/// The errno of a failed call as an Error: 40400 RateLimited, 40256/41808/41809 Auth, 40257
/// InvalidArgument, 41200/41202/41203 Transport (transient), others Vendor.
Error error_from_errno(int err, std::string_view msg, std::string_view what);

struct Plant {
  std::string station_id, name, timezone;
};
struct PlantDetail {
  std::string name, country, city, address, postcode, timezone;
  double capacity_kw = 0;
  std::vector<std::pair<std::string, std::string>> modules;  ///< (moduleSN, deviceSN)
};
struct Device {
  std::string sn, module_sn, station_id, station_name, device_type, product_type;
  int status = 0;  ///< 1 online, 2 fault, 3 offline
  bool has_pv = false, has_battery = false;
};
struct DeviceDetail {
  std::string sn, device_type, product_type, master_version, manager_version;
  int status = 0;
  double capacity_kw = 0;
  bool scheduler = false;
  struct Battery {
    std::string sn, model;
    double capacity_wh = 0;  ///< from `capicty` (sic)
  };
  std::vector<Battery> batteries;
};
struct Datum {
  std::string variable, unit;
  double value = 0;
};
struct RealTime {
  std::string sn;
  std::string time;  ///< as sent ("2026-04-07 10:44:04 CEST+0200")
  std::vector<Datum> data;
};
struct Point {
  TimePoint time;
  double value = 0;
};
struct Series {
  std::string variable, unit;
  std::vector<Point> points;
};
struct Setting {
  std::string value, unit;
  double precision = 1;
  std::optional<double> min, max;
  std::vector<std::string> choices;  ///< enumList
};
struct Generation {
  double today_kwh = 0, month_kwh = 0, cumulative_kwh = 0;
};
struct AccessCount {
  int total = 0, remaining = 0;
};
struct ReportSeries {
  std::string variable, unit;
  std::vector<double> values;
};

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

 private:
  net::HttpClient& http_;
  net::Endpoint endpoint_;
  std::string api_key_;
  asio::awaitable<Result<boost::json::value>> call_once(std::string method, std::string path,
                                                        std::map<std::string, std::string> query,
                                                        std::optional<boost::json::value> body);
  const Clock& clock_;
  Millis timeout_;
  net::Sleeper* sleeper_;
};

}  // namespace sb::foxess
