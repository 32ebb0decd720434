#include <iostream>

#include "cli/commands.hpp"

namespace sb::cli {

int report(const std::string& message) {
  // One line each: a configuration with several mistakes names them all.
  std::size_t start = 0;
  do {
    auto end = message.find('\n', start);
    std::cerr << "sunbridge: " << message.substr(start, end - start) << "\n";
    start = end == std::string::npos ? end : end + 1;
  } while (start != std::string::npos && start < message.size());
  return 1;
}

}  // namespace sb::cli
