// What the KOSTAL simulator's sections share (simulator.cpp: the model, the routes and the
// controls; simulator_auth.cpp: the login; simulator_data.cpp: process data, settings, events
// and log data): the device's Flask wording and its reply helpers.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/crypto.hpp"
#include "net/json.hpp"
#include "sim/site.hpp"
#include "vendors/kostal/simulator.hpp"

    namespace sb::kostal::detail {

  namespace json = boost::json;
  using namespace std::chrono;

  // Flask / Flask-RESTPlus wording where the device is a Flask app (specs/kostal.md §0).
  constexpr const char* kNotFound =
      "The requested URL was not found on the server. If you entered the URL manually please "
      "check your spelling and try again.";
  constexpr const char* kNotAllowed = "The method is not allowed for the requested URL.";
  constexpr const char* kUnauthorized =
      "The server could not verify that you are authorized to access the URL requested. You "
      "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
      "understand how to supply the credentials required.";
  constexpr const char* kInternal = "Internal communication error";
  constexpr Millis kLogStep = minutes(5);
  constexpr std::size_t kLogRows = 100 * 288;  // 100 days of 5-minute rows
  constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

  inline net::ServerResponse reply(int status, const json::value& body) {
    return net::ServerResponse::json(status, escape_slashes(net::to_json(body)));
  }

  inline net::ServerResponse message(int status, std::string text) {
    return reply(status, json::object{{"message", std::move(text)}});
  }

  // Flask-RESTPlus payload validation failure.
  inline net::ServerResponse invalid_payload(const std::string& field, const std::string& why) {
    return reply(400, json::object{{"errors", json::object{{field, why}}},
                                   {"message", "Input payload validation failed"}});
  }

  inline std::string random_hex(std::size_t bytes) {
    return crypto::hex(crypto::random_bytes(bytes));
  }

  inline std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
      auto comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      if (comma > start) out.push_back(s.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  }

  inline std::string float_text(double v) {
    auto s = net::to_json(json::value(v));
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
  }

  // Slot rule of KOSTAL's 96-character plan strings: '0' free, '1' no charging, '2' no discharge.
  inline std::optional<sim::WeeklyPlan> parse_plan(
      const std::map<std::string, Simulator::SettingDef>& s) {
    if (s.at("Battery:TimeControl:Enable").value != "1") return std::nullopt;
    sim::WeeklyPlan plan{};
    for (int d = 0; d < 7; ++d) {
      const auto& text = s.at(std::string("Battery:TimeControl:Conf") + kDays[d]).value;
      for (int i = 0; i < 96 && i < int(text.size()); ++i)
        plan[d][i] = static_cast<sim::SlotRule>(text[i] - '0');
    }
    return plan;
  }

}  // namespace sb::kostal::detail
