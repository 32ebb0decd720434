#include "engine/drivers.hpp"

#include "vendors/enphase/driver.hpp"
#include "vendors/foxess/driver.hpp"
#include "vendors/kostal/driver.hpp"
#include "vendors/solarlog/driver.hpp"
#include "vendors/sonnen/driver.hpp"

namespace sb::engine {

const DriverRegistry& builtin_drivers() {
  static const DriverRegistry registry = [] {
    DriverRegistry r;
    r.add(enphase::registry_entry());
    r.add(foxess::registry_entry());
    r.add(kostal::registry_entry());
    r.add(solarlog::registry_entry());
    r.add(sonnen::registry_entry());
    return r;
  }();
  return registry;
}

}  // namespace sb::engine
