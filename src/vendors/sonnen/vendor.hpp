// sonnen as `sunbridge simulate`, `demo` and `auth` see it (sim/vendor.hpp).
#pragma once

#include "sim/vendor.hpp"

namespace sb::sonnen {

sim::Vendor vendor();

}  // namespace sb::sonnen
