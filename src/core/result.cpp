#include "core/result.hpp"

namespace sb {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Transport:
      return "transport";
    case ErrorKind::Timeout:
      return "timeout";
    case ErrorKind::Auth:
      return "auth";
    case ErrorKind::RateLimited:
      return "rate_limited";
    case ErrorKind::Protocol:
      return "protocol";
    case ErrorKind::NotFound:
      return "not_found";
    case ErrorKind::NotSupported:
      return "not_supported";
    case ErrorKind::InvalidArgument:
      return "invalid_argument";
    case ErrorKind::Conflict:
      return "conflict";
    case ErrorKind::Vendor:
      return "vendor";
    case ErrorKind::Internal:
      return "internal";
  }
  return "internal";
}

std::optional<ErrorKind> parse_error_kind(std::string_view name) {
  for (auto k : kErrorKinds)
    if (to_string(k) == name) return k;
  return std::nullopt;
}

std::string Error::describe() const {
  std::string s(to_string(kind));
  s += ": ";
  s += message;
  return s;
}

}  // namespace sb
