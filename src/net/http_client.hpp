// Async HTTP/1.1 client: keep-alive connection reuse per host, a per-request timeout, TLS with
// certificate and host-name verification on by default. Thread-safe; one per process is enough.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/result.hpp"
#include "net/http.hpp"

namespace sb::net {

namespace asio = boost::asio;

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{10'000};  ///< whole exchange: write + read
  bool verify_tls = true;                             ///< verify the peer certificate and host name
  std::string ca_file;  ///< extra CA bundle (PEM); the system store is always used
  std::size_t max_idle_per_host = 4;
  /// Idle connections kept across every host (0: no cap); past it, the least recently used is
  /// closed. Each is an open file: a gateway of many local devices caps them below its limit.
  std::size_t max_idle_total = 0;
  /// An idle keep-alive connection older than this (or than the server's Keep-Alive timeout
  /// less a second) is not reused: servers close idle connections, commonly after 5 to 60 s.
  std::chrono::milliseconds max_idle_age{20'000};
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  std::string user_agent = "sunbridge/" SUNBRIDGE_VERSION;
  /// Answers every request in place of the network when set: the fuzz targets feed the vendor
  /// clients' decoders through it (fuzz/), a test can script a peer with it.
  std::function<Result<HttpResponse>(const Endpoint&, const HttpRequest&)> fake_peer;
  /// Told every request and what came of it (after the client's own retry on a stale
  /// connection): the fuzz corpus generator records the simulators' answers with it.
  std::function<void(const HttpRequest&, const Result<HttpResponse>&)> on_exchange;
};

/// One HTTP/1.1 response from its bytes, as the client reads it (a body over `max_body` and
/// anything malformed: Protocol). For fuzzing the client's parse without a socket.
Result<HttpResponse> parse_response(std::string_view raw, std::size_t max_body = 16 * 1024 * 1024);

class HttpClient {
 public:
  explicit HttpClient(asio::any_io_executor executor, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends one request. Errors: Transport (refused, reset, TLS failure), Timeout, Protocol
  /// (unparseable response, body too large). HTTP error statuses are responses, not errors.
  /// The exchange runs on its connection's strand; the caller resumes on its own executor.
  asio::awaitable<Result<HttpResponse>> request(Endpoint endpoint, HttpRequest request);

  /// Connections opened so far (tests check reuse with it).
  std::uint64_t connections_opened() const;
  /// Idle keep-alive connections held now.
  std::size_t idle_connections() const;
  /// Idle connections closed because of max_idle_total (the least recently used).
  std::uint64_t idle_evicted() const;
  /// Closes every idle connection.
  void close_idle();

 private:
  asio::awaitable<Result<HttpResponse>> request_once(Endpoint endpoint, HttpRequest request);
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sb::net
