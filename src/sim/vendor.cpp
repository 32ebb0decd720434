#include "sim/vendor.hpp"

#include <charconv>
#include <cmath>
#include <random>
#include <sstream>

namespace sb::sim {

std::string SimulateRequest::flag(const std::string& name,
                                  const std::vector<SimFlag>& flags) const {
  if (auto it = given.find(name); it != given.end()) return it->second;
  for (const auto& f : flags)
    if (f.name == name) return f.fallback;
  return {};
}

Result<long long> whole_flag(const std::string& name, const std::string& value, long long lo,
                             long long hi) {
  long long v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || v < lo || v > hi)
    return fail(ErrorKind::InvalidArgument, name + " must be a whole number from " +
                                                std::to_string(lo) + " to " + std::to_string(hi) +
                                                " (not '" + value + "')");
  return v;
}

Result<double> number_flag(const std::string& name, const std::string& value, double lo,
                           double hi) {
  double v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(v) || v < lo ||
      v > hi) {
    std::ostringstream m;
    m << name << " must be a number from " << lo << " to " << hi << " (not '" << value << "')";
    return fail(ErrorKind::InvalidArgument, m.str());
  }
  return v;
}

std::string random_hex(int n) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string t;
  for (int i = 0; i < n; ++i) t += kHex[rd() % 16];
  return t;
}

}  // namespace sb::sim
