#include "vendors/sonnen/wire.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "net/json.hpp"
#include "net/json_stream.hpp"

namespace sb::sonnen {

namespace json = boost::json;

namespace {

// The fast path's reader: the fields of StatusV1 in the types real firmware and the simulator
// send them (numbers, Timestamp and the two texts as strings, GridFeedIn_W also null). Anything
// else stops it, and the DOM decoder takes the body.
class StatusSink final : public net::DepthSink {
 public:
  // Up to Ubat numbers, FeedIn a number or null, from Timestamp on texts.
  enum Field : std::uint8_t {
    Consumption,
    Fac,
    Installed,
    Pac,
    PacSpaced,
    Production,
    Rsoc,
    Usoc,
    Uac,
    Ubat,
    FeedIn,
    Timestamp,
    SystemStatus,
    OperatingMode,
    None
  };
  double numbers[FeedIn + 1] = {};
  std::uint32_t seen = 0;
  bool feed_in_null = false;
  StatusV1 out;

 private:
  Field field_ = None;

  // By length first: a body has 10 to 30 keys, most of them unknown, and this runs per key.
  static Field field_of(std::string_view k) {
    auto is = [&](std::string_view key, Field f) { return k == key ? f : None; };
    switch (k.size()) {
      case 3:
        return k == "Fac" ? Fac : is("Uac", Uac);
      case 4:
        return k == "RSOC" ? Rsoc : k == "USOC" ? Usoc : is("Ubat", Ubat);
      case 9:
        return is("Timestamp", Timestamp);
      case 11:
        return k == "Pac_total_W" ? Pac : is("Pac total_W", PacSpaced);
      case 12:
        return k == "Production_W"   ? Production
               : k == "GridFeedIn_W" ? FeedIn
                                     : is("SystemStatus", SystemStatus);
      case 13:
        return k == "Consumption_W" ? Consumption : is("OperatingMode", OperatingMode);
      case 17:
        return is("IsSystemInstalled", Installed);
      default:
        return None;
    }
  }
  bool take() {  // a field's first value; a second one (a duplicate key) is the DOM's to judge
    auto bit = std::uint32_t(1) << field_;
    if (seen & bit) return false;
    seen |= bit;
    return true;
  }
  bool on_begin(bool object) override { return depth() == 1 && object; }
  bool on_end(bool) override { return true; }
  bool on_key(std::string_view k) override {
    field_ = field_of(k);
    if (field_ == None) skip();
    return true;
  }
  bool on_number(double v) override {
    if (depth() != 1 || field_ > FeedIn || !take()) return false;
    numbers[field_] = v;
    return true;
  }
  bool on_string(std::string_view v) override {
    if (depth() != 1 || field_ < Timestamp || field_ == None || !take()) return false;
    if (field_ == Timestamp)
      out.Timestamp.assign(v);
    else
      (field_ == SystemStatus ? out.SystemStatus : out.OperatingMode).emplace(v);
    return true;
  }
  bool on_null() override {
    if (depth() != 1 || field_ != FeedIn || !take()) return false;
    feed_in_null = true;
    return true;
  }
};

}  // namespace

std::optional<StatusV1> parse_status_fast(std::string_view body) {
  StatusSink sink;
  if (!net::stream_json(body, sink)) return std::nullopt;
  using F = StatusSink;
  constexpr std::uint32_t required =
      (1u << F::Consumption) | (1u << F::Fac) | (1u << F::Installed) | (1u << F::Production) |
      (1u << F::Rsoc) | (1u << F::Usoc) | (1u << F::Uac) | (1u << F::Ubat) | (1u << F::Timestamp);
  if ((sink.seen & required) != required) return std::nullopt;
  if (!(sink.seen & ((1u << F::Pac) | (1u << F::PacSpaced)))) return std::nullopt;
  const double* n = sink.numbers;
  StatusV1 s = std::move(sink.out);
  s.Consumption_W = n[F::Consumption];
  s.Fac = n[F::Fac];
  s.Production_W = n[F::Production];
  s.RSOC = n[F::Rsoc];
  s.USOC = n[F::Usoc];
  s.Uac = n[F::Uac];
  s.Ubat = n[F::Ubat];
  s.Pac_total_W = (sink.seen & (1u << F::Pac)) ? n[F::Pac] : n[F::PacSpaced];
  if (n[F::Installed] != 0 && n[F::Installed] != 1) return std::nullopt;
  s.IsSystemInstalled = static_cast<int>(n[F::Installed]);
  if ((sink.seen & (1u << F::FeedIn)) && !sink.feed_in_null) s.GridFeedIn_W = n[F::FeedIn];
  for (auto v :
       {s.Consumption_W, s.Fac, s.Pac_total_W, s.Production_W, s.RSOC, s.USOC, s.Uac, s.Ubat})
    if (!std::isfinite(v)) return std::nullopt;
  return s;
}

Result<StatusV1> parse_status(std::string_view body) {
  if (auto s = parse_status_fast(body)) return std::move(*s);
  return parse_status_full(body);
}

Result<StatusV1> parse_status_full(std::string_view body) {
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
