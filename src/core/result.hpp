// Result<T> and the error taxonomy used on every polling, storage and command path.
// Errors are values; exceptions are for start-up and programmer errors only.
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace sb {

/// What kind of failure happened; drives retry policy and the HTTP status our API returns.
enum class ErrorKind {
  Transport,        ///< connection refused / reset / DNS: retry with backoff
  Timeout,          ///< no answer in time: retry with backoff
  Auth,             ///< credentials wrong or session gone: one silent re-login, then ask the user
  RateLimited,      ///< vendor quota: wait retry_after
  Protocol,         ///< the peer answered something we cannot parse or that breaks the contract
  NotFound,         ///< unknown device, metric, path
  NotSupported,     ///< the vendor / device cannot do this
  InvalidArgument,  ///< the caller's input is wrong (config, CLI flag, API body)
  Conflict,         ///< refused because something else holds the resource (e.g. a running command)
  Vendor,           ///< the vendor reported a failure of its own (error code in vendor_code)
  Internal,         ///< a bug or a local resource failure (disk, database)
};

/// Every kind, in the order above (for outputs that list them all, zero or not).
inline constexpr ErrorKind kErrorKinds[] = {
    ErrorKind::Transport, ErrorKind::Timeout,  ErrorKind::Auth,         ErrorKind::RateLimited,
    ErrorKind::Protocol,  ErrorKind::NotFound, ErrorKind::NotSupported, ErrorKind::InvalidArgument,
    ErrorKind::Conflict,  ErrorKind::Vendor,   ErrorKind::Internal};

std::string_view to_string(ErrorKind kind);
/// The kind to_string() named; none for anything else.
std::optional<ErrorKind> parse_error_kind(std::string_view name);

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;
  std::optional<std::chrono::seconds> retry_after;
  int vendor_code = 0;

  /// Transient errors are worth retrying after a backoff.
  bool transient() const {
    return kind == ErrorKind::Transport || kind == ErrorKind::Timeout ||
           kind == ErrorKind::RateLimited;
  }
  /// "kind: message", for logs and CLI output.
  std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected<Error>(Error{kind, std::move(message)});
}
inline std::unexpected<Error> fail(Error e) {
  return std::unexpected<Error>(std::move(e));
}

/// Prefixes context to an error message ("sonnen1: " + ...), keeping kind and codes.
inline Error with_context(Error e, std::string_view context) {
  e.message = std::string(context) + ": " + e.message;
  return e;
}

}  // namespace sb
