// `sunbridge demo --fleet` (src/cli/fleet_demo.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "sim/faults.hpp"

namespace sb::cli {

struct FleetDemoOptions {
  std::string db;                         ///< postgresql://…
  std::string listen = "127.0.0.1:8080";  ///< the first worker's; the others take the next ports
  int sites = 250;
  int workers = 3;
  int lease_s = 10;
  std::uint64_t seed = 1;
  sim::FaultSpec faults;  ///< for every home's simulator (--faults)
};

int fleet_demo(const FleetDemoOptions& o);

}  // namespace sb::cli
