#include "sim/faults.hpp"

#include <charconv>
#include <cstdio>

namespace sb::sim {

namespace {

Result<Millis> parse_duration(std::string_view key, std::string_view v) {
  double n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  std::string_view unit(p, v.data() + v.size() - p);
  if (ec != std::errc() || n < 0 || (unit != "ms" && unit != "s"))
    return fail(ErrorKind::InvalidArgument, "faults: '" + std::string(key) + "=" + std::string(v) +
                                                "' needs a duration such as 200ms or 2s");
  return Millis(static_cast<std::int64_t>(unit == "s" ? n * 1000 : n));
}

Result<double> parse_rate(std::string_view key, std::string_view v) {
  double n = -1;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 0 || n > 1)
    return fail(ErrorKind::InvalidArgument, "faults: '" + std::string(key) + "=" + std::string(v) +
                                                "' needs a rate from 0 to 1");
  return n;
}

}  // namespace

Result<FaultSpec> parse_fault_spec(std::string_view text) {
  FaultSpec spec;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return fail(ErrorKind::InvalidArgument,
                  "faults: '" + std::string(item) + "' is not key=value");
    auto key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "latency" || key == "jitter") {
      auto d = parse_duration(key, value);
      if (!d) return fail(d.error());
      (key == "latency" ? spec.latency : spec.latency_jitter) = *d;
    } else if (key == "error" || key == "drop" || key == "malformed") {
      auto r = parse_rate(key, value);
      if (!r) return fail(r.error());
      (key == "error"  ? spec.error_rate
       : key == "drop" ? spec.drop_rate
                       : spec.malformed_rate) = *r;
    } else if (key == "seed") {
      std::uint64_t s = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
      if (ec != std::errc() || p != value.data() + value.size())
        return fail(ErrorKind::InvalidArgument, "faults: seed needs a whole number");
      spec.seed = s;
    } else {
      return fail(ErrorKind::InvalidArgument,
                  "faults: unknown key '" + std::string(key) +
                      "' (valid: latency, jitter, error, drop, malformed, seed)");
    }
  }
  if (spec.error_rate + spec.drop_rate + spec.malformed_rate > 1.0)
    return fail(ErrorKind::InvalidArgument, "faults: error + drop + malformed must not exceed 1");
  return spec;
}

std::string to_string(const FaultSpec& s) {
  char buf[160];
  std::snprintf(
      buf, sizeof buf, "latency=%lldms,jitter=%lldms,error=%g,drop=%g,malformed=%g,seed=%llu",
      static_cast<long long>(s.latency.count()), static_cast<long long>(s.latency_jitter.count()),
      s.error_rate, s.drop_rate, s.malformed_rate, static_cast<unsigned long long>(s.seed));
  return buf;
}

void FaultInjector::set(FaultSpec spec) {
  std::lock_guard lock(mutex_);
  spec_ = spec;
  rng_.seed(spec.seed);
}

FaultSpec FaultInjector::spec() const {
  std::lock_guard lock(mutex_);
  return spec_;
}

FaultAction FaultInjector::next() {
  std::lock_guard lock(mutex_);
  double x = std::uniform_real_distribution<double>(0, 1)(rng_);
  if (x < spec_.drop_rate) return FaultAction::Drop;
  if (x < spec_.drop_rate + spec_.error_rate) return FaultAction::Error;
  if (x < spec_.drop_rate + spec_.error_rate + spec_.malformed_rate) return FaultAction::Malformed;
  return FaultAction::None;
}

Millis FaultInjector::latency() {
  std::lock_guard lock(mutex_);
  Millis d = spec_.latency;
  if (spec_.latency_jitter.count() > 0)
    d += Millis(std::uniform_int_distribution<std::int64_t>(0, spec_.latency_jitter.count())(rng_));
  return d;
}

}  // namespace sb::sim
