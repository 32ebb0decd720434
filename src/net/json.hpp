// JSON helpers on Boost.JSON: parse with a located error, typed field access whose errors
// name the field, so a malformed vendor response says exactly what is wrong and where.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sb::net {

namespace json = boost::json;

/// Parses `text`; Protocol error "<what>: invalid JSON at byte N: <reason>" on failure.
Result<json::value> parse_json(std::string_view text, std::string_view what);
/// Parses and requires an object.
Result<json::object> parse_json_object(std::string_view text, std::string_view what);

/// A number (integer or floating) from any JSON number, or a numeric string when
/// `accept_string` (vendors send "230.1" as often as 230.1).
Result<double> get_number(const json::object& o, std::string_view key, std::string_view what,
                          bool accept_string = false);
/// The number, or nullopt when the key is absent or null; an error when present but not a number.
Result<std::optional<double>> get_optional_number(const json::object& o, std::string_view key,
                                                  std::string_view what,
                                                  bool accept_string = false);
Result<std::string> get_string(const json::object& o, std::string_view key, std::string_view what);
/// Converts a JSON number to double (int64, uint64 or double); nullopt for other kinds.
std::optional<double> as_double(const json::value& v);

/// Lenient field reads for vendor answers whose shapes vary: `o[key]` as a number (a JSON number
/// or a numeric string), 0 when absent or neither; as text (a string as it is, an integer in
/// decimal), "" otherwise.
double field_number(const json::object& o, std::string_view key);
std::string field_text(const json::object& o, std::string_view key);

/// A number as people write it outside JSON (MQTT payloads, Prometheus samples): whole
/// numbers without an exponent ("5400000000", "-35"), others in their shortest round-trip form
/// ("50.01"). Finite values only.
std::string number_text(double v);

/// Compact serialisation. Unlike json::serialize, doubles come out as people and devices
/// write them ("50.004", "230", never "2.3E2"); NaN and infinity become null.
std::string to_json(const json::value& v);
/// The same for an object or array, without copying it into a value first.
std::string to_json(const json::object& o);
std::string to_json(const json::array& a);

}  // namespace sb::net
