#include "vendors/sonnen/wire.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "net/json.hpp"

namespace sb::sonnen {

namespace json = boost::json;

Result<StatusV1> parse_status(std::string_view body) {
  constexpr std::string_view what = "sonnen status";
  auto parsed = net::parse_json_object(body, what);
  if (!parsed) return fail(parsed.error());
  const auto& o = *parsed;
  StatusV1 s;
  auto num = [&](std::string_view key, double& out) -> Result<void> {
    auto v = net::get_number(o, key, what, true);
    if (!v) return fail(v.error());
    out = *v;
    return {};
  };
  for (auto [key, field] : {std::pair{"Consumption_W", &s.Consumption_W},
                            {"Fac", &s.Fac},
                            {"Production_W", &s.Production_W},
                            {"RSOC", &s.RSOC},
                            {"USOC", &s.USOC},
                            {"Uac", &s.Uac},
                            {"Ubat", &s.Ubat}}) {
    if (auto r = num(key, *field); !r) return fail(r.error());
  }
  // The seed's example spells it with a space, its table and every real device with '_'.
  const char* pac_key = o.contains("Pac_total_W") ? "Pac_total_W" : "Pac total_W";
  if (!o.contains(pac_key))
    return fail(ErrorKind::Protocol, "sonnen status: field 'Pac_total_W' is missing");
  if (auto r = num(pac_key, s.Pac_total_W); !r) return fail(r.error());
  double installed = 0;
  if (auto r = num("IsSystemInstalled", installed); !r) {
    // Some clients' mocks send a boolean.
    auto it = o.find("IsSystemInstalled");
    if (it == o.end() || !it->value().is_bool()) return fail(r.error());
    installed = it->value().get_bool() ? 1 : 0;
  }
  auto flag = net::whole_number(installed, 0, 1, what, "IsSystemInstalled");
  if (!flag) return fail(flag.error());
  s.IsSystemInstalled = static_cast<int>(*flag);
  auto ts = net::get_string(o, "Timestamp", what);
  if (!ts) return fail(ts.error());
  s.Timestamp = *ts;
  auto feed = net::get_optional_number(o, "GridFeedIn_W", what, true);
  if (!feed) return fail(feed.error());
  s.GridFeedIn_W = *feed;
  if (auto it = o.find("SystemStatus"); it != o.end() && it->value().is_string())
    s.SystemStatus = std::string(it->value().get_string());
  if (auto it = o.find("OperatingMode"); it != o.end()) {
    if (it->value().is_string())
      s.OperatingMode = std::string(it->value().get_string());
    else if (auto d = net::as_double(it->value())) {
      // The documented modes are 1, 2, 10, 11, 12; a mode code is at most two digits.
      auto mode = net::whole_number(*d, 0, 99, what, "OperatingMode");
      if (!mode) return fail(mode.error());
      s.OperatingMode = std::to_string(*mode);
    }
  }
  for (auto v :
       {s.Consumption_W, s.Fac, s.Pac_total_W, s.Production_W, s.RSOC, s.USOC, s.Uac, s.Ubat})
    if (!std::isfinite(v)) return fail(ErrorKind::Protocol, "sonnen status: non-finite number");
  return s;
}

std::string serialize_status(const StatusV1& s) {
  // Keys in ASCII order: "Pac_total_W" sorts after "IsSystemInstalled" and before
  // "Production_W", as the seed's example order shows.
  json::object o;
  o["Consumption_W"] = std::llround(s.Consumption_W);
  o["Fac"] = std::round(s.Fac * 100) / 100;
  o["IsSystemInstalled"] = s.IsSystemInstalled;
  o["Pac_total_W"] = std::llround(s.Pac_total_W);
  o["Production_W"] = std::llround(s.Production_W);
  o["RSOC"] = std::llround(s.RSOC);
  o["Timestamp"] = s.Timestamp;
  o["USOC"] = std::llround(s.USOC);
  o["Uac"] = std::llround(s.Uac);
  o["Ubat"] = std::llround(s.Ubat);
  return net::to_json(o);  // boost::json::object keeps insertion order
}

std::string return_code_body(ReturnCode code) {
  return "{\"ReturnCode\": " + std::to_string(static_cast<int>(code)) + "}\n";
}

std::optional<int> parse_return_code(std::string_view body) {
  auto o = net::parse_json_object(body, "sonnen reply");
  if (!o) return std::nullopt;
  auto it = o->find("ReturnCode");
  if (it == o->end()) return std::nullopt;
  if (auto d = net::as_double(it->value()))
    if (auto code = net::whole_number(*d, 0, 999, "sonnen reply", "ReturnCode"))
      return static_cast<int>(*code);
  return std::nullopt;
}

}  // namespace sb::sonnen
