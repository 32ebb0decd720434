// What a driver gets from the engine: where to run, how to talk HTTP, what time it is, how to
// wait. Declared in core (as an incomplete type), defined here where its members live.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/clock.hpp"
#include "core/driver.hpp"
#include "net/http_client.hpp"
#include "net/retry.hpp"

namespace sb {

struct DriverEnv {
  boost::asio::any_io_executor executor;
  const Clock& clock;
  net::HttpClient& http;
  net::Sleeper& sleeper;
  /// For CPU-heavy work (PBKDF2); null: run it in place.
  boost::asio::thread_pool* blocking = nullptr;
};

/// Where a connection's requests go: its host, its port (or `default_port` when it set none),
/// TLS as configured.
inline net::Endpoint endpoint_of(const ConnectionConfig& c, int default_port) {
  return {c.host, static_cast<std::uint16_t>(c.port ? c.port : default_port), c.tls};
}

}  // namespace sb
