// The vendors the commands know, each from its own vendors/<v>/vendor.cpp: `simulate`, `demo`
// and `auth` loop over this list and name no vendor themselves.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/vendor.hpp"

namespace sb::cli {

/// In the order of the demo's homes.
const std::vector<sim::Vendor>& vendors();
const sim::Vendor* find_vendor(std::string_view name);
/// "enphase, foxess, kostal, solarlog, sonnen": the names for which `pick` holds, sorted.
std::string vendor_names(bool (*pick)(const sim::Vendor&) = nullptr);

}  // namespace sb::cli
