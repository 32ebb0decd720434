// sonnenBatterie API v1 on the wire, exactly as the seed (003) and real devices spell it.
// specs/sonnen.md §2.2 and protocols.md §3.4.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sb::sonnen {

/// GET /api/v1/status. The seed lists ten fields; real firmware adds more, of which the
/// optional ones below have a use.
struct StatusV1 {
  double Consumption_W = 0;   ///< house consumption, W
  double Fac = 0;             ///< AC frequency, Hz
  int IsSystemInstalled = 0;  ///< 1 / 0, an integer, not a boolean
  double Pac_total_W = 0;     ///< inverter AC power, > 0 discharging, < 0 charging
  double Production_W = 0;    ///< PV production, W
  double RSOC = 0;            ///< relative state of charge, %
  std::string Timestamp;      ///< local time "YYYY-MM-DD HH:MM:SS", no zone
  double USOC = 0;            ///< user state of charge, %: what clients show as "the" SoC
  double Uac = 0;             ///< AC voltage, V
  double Ubat = 0;            ///< battery voltage, V
  // Real firmware only (protocols.md §3.4):
  std::optional<double> GridFeedIn_W;        ///< > 0 export, < 0 import
  std::optional<std::string> SystemStatus;   ///< "OnGrid", "OffGrid"
  std::optional<std::string> OperatingMode;  ///< "1" manual, "2" self-consumption, "10" time of use
  bool operator==(const StatusV1&) const = default;
};

/// Parses a status body. Accepts both `Pac_total_W` (table, every real device) and
/// `Pac total_W` (the seed's JSON example), numbers or numeric strings; a missing required
/// field or a wrong type is a Protocol error naming the field.
Result<StatusV1> parse_status(std::string_view body);
/// parse_status() in two halves: the fast path reads the common shape (numbers as numbers, no
/// duplicate keys) without building a DOM and gives up (nullopt) on anything else; the full
/// decoder accepts every variant and words every error. Where the fast path gives a status,
/// the full decoder gives the same one (fuzz_fast_decode checks it).
std::optional<StatusV1> parse_status_fast(std::string_view body);
Result<StatusV1> parse_status_full(std::string_view body);

/// The simulator's body: compact JSON, keys in ASCII order, no trailing newline, which is
/// what gives the seed's Content-Length of 151 for the all-zero example.
std::string serialize_status(const StatusV1& status);

/// v1 return codes (seed table 3). The seed does not say how they travel; see
/// docs/vendors/sonnen.md "Decisions": an HTTP status plus a body `{"ReturnCode": N}\n`.
enum class ReturnCode : int { Ok = 0, InvalidPath = 5, InternalError = 13, InvalidMethod = 16 };
std::string return_code_body(ReturnCode code);
/// The code in a return-code body; nullopt when the body is not one.
std::optional<int> parse_return_code(std::string_view body);

}  // namespace sb::sonnen
