// Solar-Log as `sunbridge simulate`, `demo` and `auth` see it (sim/vendor.hpp).
#pragma once

#include "sim/vendor.hpp"

namespace sb::solarlog {

sim::Vendor vendor();

}  // namespace sb::solarlog
