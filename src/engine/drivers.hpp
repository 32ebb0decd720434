// The one list of built-in vendors (explicit registration, STYLE.md 4).
#pragma once

#include "core/registry.hpp"

namespace sb::engine {

/// Every vendor this build speaks.
const DriverRegistry& builtin_drivers();

}  // namespace sb::engine
