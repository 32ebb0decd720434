// A file compiled into the binary (SQL migrations, dashboard assets); see cmake/Embed.cmake.
#pragma once

#include <cstddef>
#include <string_view>

namespace sb {

struct EmbeddedFile {
  std::string_view path;  ///< relative to the embedded folder ("0001_initial.sql", "app.js")
  std::string_view data;
};

}  // namespace sb
