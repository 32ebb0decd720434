// JSON helpers on Boost.JSON: parse with a located error, typed field access whose errors
// name the field, so a malformed vendor response says exactly what is wrong and where.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
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

/// Whole numbers a double holds exactly (±2^53): an epoch time in seconds within it stays
/// exact and cannot overflow when turned into milliseconds.
inline constexpr std::int64_t kExactInteger = std::int64_t(1) << 53;

/// `v`, a vendor's number, rounded to a whole number within lo..hi; a Protocol error
/// "<what>: field 'KEY' = V is outside LO..HI" otherwise (infinity and NaN too). Every
/// conversion of a vendor's number to an integer goes through here or FieldReader: a cast of an
/// out-of-range double is undefined behaviour.
Result<std::int64_t> whole_number(double v, std::int64_t lo, std::int64_t hi, std::string_view what,
                                  std::string_view key);
/// get_number() and whole_number() in one.
Result<std::int64_t> get_integer(const json::object& o, std::string_view key, std::string_view what,
                                 std::int64_t lo, std::int64_t hi, bool accept_string = false);

/// Reads the numbers of a vendor answer whose shape varies, as field_number() does (absent or
/// not a number: 0), while refusing what no device sends: a non-finite number, or a whole
/// number outside the range its use allows. The first refused field is kept; the decoder
/// returns result(value), which is that field's Protocol error if there was one.
class FieldReader {
 public:
  explicit FieldReader(std::string what) : what_(std::move(what)) {}
  double number(const json::object& o, std::string_view key);
  std::optional<double> optional_number(const json::object& o, std::string_view key);
  /// `v` (read elsewhere, an array element say) if finite; 0 and the error otherwise.
  double finite(double v, std::string_view key);
  /// o[key] rounded to a whole number within lo..hi; 0 when absent (and the error when out of
  /// range). The default range suits counts, ids and epoch times.
  std::int64_t integer(const json::object& o, std::string_view key,
                       std::int64_t lo = -kExactInteger, std::int64_t hi = kExactInteger);
  std::int64_t integer(double v, std::string_view key, std::int64_t lo = -kExactInteger,
                       std::int64_t hi = kExactInteger);
  const std::optional<Error>& error() const { return error_; }
  template <class T>
  Result<T> result(T value) const {
    if (error_) return std::unexpected(*error_);
    return value;
  }

 private:
  std::string what_;
  std::optional<Error> error_;
};

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
