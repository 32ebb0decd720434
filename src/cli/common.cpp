#include <iostream>

#include "cli/commands.hpp"

namespace sb::cli {

int report(const std::string& message) {
  std::cerr << "sunbridge: " << message << "\n";
  return 1;
}

}  // namespace sb::cli
