#include "sim/vendor.hpp"

#include <boost/asio/ip/address_v4.hpp>
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

std::pair<std::string, std::uint16_t> SimulateRequest::endpoint_of(int i,
                                                                   std::uint16_t first_port) const {
  if (!across_addresses)
    return {host, port == 0 ? std::uint16_t{0} : static_cast<std::uint16_t>(port + i)};
  // The caller checked that `host` is IPv4 and that the last device's address stays in its /8.
  auto first = boost::asio::ip::make_address_v4(host).to_uint();
  auto address = boost::asio::ip::address_v4(first + static_cast<std::uint32_t>(i));
  return {address.to_string(), i == 0 ? port : first_port};
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
