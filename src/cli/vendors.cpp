#include "cli/vendors.hpp"

#include <algorithm>

#include "vendors/enphase/vendor.hpp"
#include "vendors/foxess/vendor.hpp"
#include "vendors/kostal/vendor.hpp"
#include "vendors/solarlog/vendor.hpp"
#include "vendors/sonnen/vendor.hpp"

namespace sb::cli {

const std::vector<sim::Vendor>& vendors() {
  static const std::vector<sim::Vendor> all = {sonnen::vendor(), kostal::vendor(), foxess::vendor(),
                                               enphase::vendor(), solarlog::vendor()};
  return all;
}

const sim::Vendor* find_vendor(std::string_view name) {
  for (const auto& v : vendors())
    if (v.name == name) return &v;
  return nullptr;
}

std::string vendor_names(bool (*pick)(const sim::Vendor&)) {
  std::vector<std::string> names;
  for (const auto& v : vendors())
    if (!pick || pick(v)) names.push_back(v.name);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace sb::cli
