// Enphase as `sunbridge simulate`, `demo` and `auth` see it (sim/vendor.hpp).
#pragma once

#include "sim/vendor.hpp"

namespace sb::enphase {

sim::Vendor vendor();

}  // namespace sb::enphase
