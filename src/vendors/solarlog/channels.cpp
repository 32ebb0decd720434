#include "vendors/solarlog/channels.hpp"

#include <date/date.h>

#include <array>
#include <cmath>
#include <cstdio>

namespace sb::solarlog {

namespace json = boost::json;

namespace {

enum class Q {
  Prod,
  ProdDc,
  Cons,
  Charge,
  Discharge,
  Import,
  Export,
  Soc,
  Pdc,
  Udc,
  Idc,
  Irr,
  Tmod
};

// Which components carry a channel.
enum Target : unsigned {
  kPlant = 1,
  kInverter = 2,
  kTracker = 4,
  kString = 8,
  kGridMeter = 16,
  kConsMeter = 32,
  kBattery = 64,
  kIrrSensor = 128,
  kModSensor = 256,
  kEv = 512,
};

unsigned target_of(const Component* c) {
  if (!c) return kPlant;
  if (c->type == "Inverter") return kInverter;
  if (c->type == "MppTracker") return kTracker;
  if (c->type == "InverterString") return kString;
  if (c->type == "Meter") return c->subtype == "grid" ? kGridMeter : kConsMeter;
  if (c->type == "Battery") return kBattery;
  if (c->type == "Sensor") return c->subtype == "irradiance" ? kIrrSensor : kModSensor;
  if (c->type == "EVCharger") return kEv;
  return 0;
}

}  // namespace

struct Channel {
  const char* name;
  const char* unit;
  ChannelKind kind;
  Q q;
  unsigned targets;
};

namespace {

using K = ChannelKind;
constexpr unsigned kProd = kPlant | kInverter, kConsT = kPlant | kConsMeter | kEv,
                   kBat = kPlant | kBattery, kGrid = kPlant | kGridMeter, kDc = kTracker | kString;
const std::array<Channel, 25> kChannels{{
    {"ProdPac", "W", K::Power, Q::Prod, kProd},
    {"ProdPdc", "W", K::Power, Q::ProdDc, kProd},
    {"ProdE", "Wh", K::Energy, Q::Prod, kProd},
    {"ProdEtotal", "Wh", K::Counter, Q::Prod, kProd},
    {"ConsPac", "W", K::Power, Q::Cons, kConsT},
    {"ConsE", "Wh", K::Energy, Q::Cons, kConsT},
    {"ConsEtotal", "Wh", K::Counter, Q::Cons, kConsT},
    {"ChargePac", "W", K::Power, Q::Charge, kBat},
    {"ChargeE", "Wh", K::Energy, Q::Charge, kBat},
    {"ChargeEtotal", "Wh", K::Counter, Q::Charge, kBat},
    {"DischargePac", "W", K::Power, Q::Discharge, kBat},
    {"DischargeE", "Wh", K::Energy, Q::Discharge, kBat},
    {"DischargeEtotal", "Wh", K::Counter, Q::Discharge, kBat},
    {"BatSoc", "%", K::Level, Q::Soc, kBat},
    {"ImportPac", "W", K::Power, Q::Import, kGrid},
    {"ImportE", "Wh", K::Energy, Q::Import, kGrid},
    {"ImportEtotal", "Wh", K::Counter, Q::Import, kGrid},
    {"ExportPac", "W", K::Power, Q::Export, kGrid},
    {"ExportE", "Wh", K::Energy, Q::Export, kGrid},
    {"ExportEtotal", "Wh", K::Counter, Q::Export, kGrid},
    {"Pdc", "W", K::Power, Q::Pdc, kDc},
    {"Udc", "V", K::Power, Q::Udc, kDc},
    {"Idc", "A", K::Power, Q::Idc, kDc},
    {"Irr", "W/m2", K::Power, Q::Irr, kIrrSensor},
    {"Tmod", "C", K::Power, Q::Tmod, kModSensor},
}};

double slot_value(Q q, const SlotValues& s, const Component* c) {
  auto inv = c ? static_cast<std::size_t>(c->index) : 0;
  bool is_string = c && c->type == "InverterString";
  switch (q) {
    case Q::Prod:
      return c ? s.inverter_ac[inv] : s.prod_ac;
    case Q::ProdDc:
      return c ? s.inverter_dc[inv] : s.prod_dc;
    case Q::Cons:
      return c && c->type == "EVCharger" ? s.ev : s.cons;
    case Q::Charge:
      return s.charge;
    case Q::Discharge:
      return s.discharge;
    case Q::Import:
      return s.import;
    case Q::Export:
      return s.export_;
    case Q::Soc:
      return s.soc;
    case Q::Pdc:  // a tracker's two strings share its power and current
      return s.trackers[inv].power_w / (is_string ? 2 : 1);
    case Q::Udc:
      return s.trackers[inv].voltage_v;
    case Q::Idc:
      return s.trackers[inv].current_a / (is_string ? 2 : 1);
    case Q::Irr:
      return s.irradiance;
    case Q::Tmod:
      return s.module_c;
  }
  return 0;
}

double day_value(Q q, const DayTotals& d, const Component* c) {
  switch (q) {
    case Q::Prod:
      return c ? d.inverter[static_cast<std::size_t>(c->index)] : d.prod;
    case Q::Cons:
      return c && c->type == "EVCharger" ? d.ev : d.cons;
    case Q::Charge:
      return d.charge;
    case Q::Discharge:
      return d.discharge;
    case Q::Import:
      return d.import;
    case Q::Export:
      return d.export_;
    default:
      return 0;
  }
}

date::year_month_day ymd(std::int64_t day) {
  return date::year_month_day(date::local_days(date::days(day)));
}

double round3(double v) {
  return std::round(v * 1000) / 1000;
}

}  // namespace

std::optional<std::int64_t> day_number(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  auto date =
      date::year(y) / date::month(static_cast<unsigned>(m)) / date::day(static_cast<unsigned>(d));
  if (!date.ok()) return std::nullopt;
  return date::local_days(date).time_since_epoch().count();
}

std::string day_string(std::int64_t day) {
  auto d = ymd(day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

const Channel* find_channel(std::string_view name) {
  for (const auto& c : kChannels)
    if (name == c.name) return &c;
  return nullptr;
}

std::string_view channel_name(const Channel& c) {
  return c.name;
}

ChannelKind channel_kind(const Channel& c) {
  return c.kind;
}

std::string channel_names() {
  std::string out;
  for (const auto& c : kChannels) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

std::string refusal(const PlantModel& model, const Channel& ch, const Component* c,
                    const Period& period) {
  if (!(ch.targets & target_of(c)))
    return std::string("Channel ") + ch.name + " is not available for " +
           (c ? "component " + std::to_string(c->cross_epoch_id) + " (" + c->type + ")"
              : std::string("the plant; ask a component for it"));
  if (!c && (ch.targets & kBattery) && !model.has_battery())
    return std::string("Channel ") + ch.name + ": the plant has no battery";
  if (ch.kind == ChannelKind::Power && period.kind != Period::Day)
    return std::string("Channel ") + ch.name +
           " has 5-minute values only; ask for a day or a date range";
  return {};
}

json::object series(PlantModel& model, const Channel& ch, const Component* c, const Period& period,
                    TimePoint now) {
  json::array points;
  std::string date, resolution;
  auto today = model.day_of(now);
  if (period.kind == Period::Day) {
    date = day_string(period.day);
    resolution = "5min";
    double counter =
        ch.kind == ChannelKind::Counter ? day_value(ch.q, model.before(period.day, now), c) : 0;
    for (const auto& s : model.slots(period.day, now)) {
      if (!s) {
        points.emplace_back(nullptr);
        continue;
      }
      double v = slot_value(ch.q, *s, c);
      if (ch.kind == ChannelKind::Energy) v *= 5.0 / 60;
      if (ch.kind == ChannelKind::Counter) v = counter += v * 5.0 / 60;
      points.emplace_back(round3(v));
    }
  } else {
    // Buckets of whole days: the days of a month, the months of a year, the years of the
    // plant's life.
    std::vector<std::pair<std::int64_t, std::int64_t>> buckets;
    char buf[16];
    if (period.kind == Period::Month) {
      std::snprintf(buf, sizeof buf, "%04d-%02d", period.year, period.month);
      resolution = "day";
      auto first = *day_number(period.year, period.month, 1);
      auto next = period.month == 12 ? *day_number(period.year + 1, 1, 1)
                                     : *day_number(period.year, period.month + 1, 1);
      for (auto d = first; d < next; ++d) buckets.emplace_back(d, d + 1);
    } else if (period.kind == Period::Year) {
      std::snprintf(buf, sizeof buf, "%04d", period.year);
      resolution = "month";
      for (int m = 1; m <= 12; ++m)
        buckets.emplace_back(
            *day_number(period.year, m, 1),
            m == 12 ? *day_number(period.year + 1, 1, 1) : *day_number(period.year, m + 1, 1));
    } else {
      int first = static_cast<int>(ymd(model.first_day()).year());
      int last = static_cast<int>(ymd(today).year());
      std::snprintf(buf, sizeof buf, "%04d", first);
      resolution = "year";
      for (int y = first; y <= last; ++y)
        buckets.emplace_back(*day_number(y, 1, 1), *day_number(y + 1, 1, 1));
    }
    date = buf;
    double counter = ch.kind == ChannelKind::Counter && !buckets.empty()
                         ? day_value(ch.q, model.before(buckets.front().first, now), c)
                         : 0;
    for (auto [from, to] : buckets) {
      auto lo = std::max(from, model.first_day()), hi = std::min(to, today + 1);
      if (lo >= hi) {
        points.emplace_back(nullptr);
        continue;
      }
      double sum = 0, level = 0;
      for (auto d = lo; d < hi; ++d) {
        auto t = model.totals(d, now);
        sum += day_value(ch.q, t, c);
        level = t.stored_end;
      }
      if (ch.kind == ChannelKind::Energy) points.emplace_back(round3(sum));
      if (ch.kind == ChannelKind::Counter) points.emplace_back(round3(counter += sum));
      if (ch.kind == ChannelKind::Level) points.emplace_back(round3(model.soc_percent(level)));
    }
  }
  json::object out{{"name", ch.name},
                   {"date", date},
                   {"resolution", resolution},
                   {"unit", ch.unit},
                   {"dataPoints", std::move(points)}};
  if (c) out["componentId"] = c->cross_epoch_id;
  return out;
}

}  // namespace sb::solarlog
