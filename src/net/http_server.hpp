// Async HTTP/1.1 server with a router (path parameters, 404/405 handling) and graceful stop.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "net/http.hpp"

namespace sb::net {

namespace asio = boost::asio;

/// The source of a streamed body: next() gives each piece as it is ready and nullopt at the end
/// (or when the server stops: `stopping` turns true).
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  virtual asio::awaitable<std::optional<std::string>> next(const std::atomic<bool>& stopping) = 0;
  /// After next() gave nullopt: true to close the connection without the last chunk (a stream
  /// cut off, as fault injection wants it).
  virtual bool aborted() const { return false; }
};

using Handler = std::function<asio::awaitable<ServerResponse>(ServerRequest&)>;

/// Routes by method and path pattern. Patterns are literal segments, `{name}` for one segment,
/// and a final `{name*}` for the rest of the path. First match wins; a path that matches with
/// another method answers 405 with an Allow header.
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  void get(std::string pattern, Handler h) { add("GET", std::move(pattern), std::move(h)); }
  void post(std::string pattern, Handler h) { add("POST", std::move(pattern), std::move(h)); }
  void put(std::string pattern, Handler h) { add("PUT", std::move(pattern), std::move(h)); }
  /// Called when no pattern matches (default: 404 JSON error).
  void set_not_found(Handler h) { not_found_ = std::move(h); }
  /// Called when a pattern matches with another method; request.params["allow"] lists them.
  void set_method_not_allowed(Handler h) { method_not_allowed_ = std::move(h); }

  asio::awaitable<ServerResponse> dispatch(ServerRequest& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool match(const Route& r, const std::vector<std::string>& path,
                    std::map<std::string, std::string>& params);
  std::vector<Route> routes_;
  Handler not_found_;
  Handler method_not_allowed_;
};

/// One HTTP/1.1 request from its bytes, as the server hands it to the router (its remote left
/// empty); InvalidArgument saying what is malformed. The server's own parse, for fuzzing.
Result<ServerRequest> parse_request(std::string_view raw, std::size_t max_body = 1024 * 1024);

struct HttpServerOptions {
  std::chrono::milliseconds idle_timeout{30'000};     ///< keep-alive connection idle limit
  std::chrono::milliseconds request_timeout{15'000};  ///< reading one request
  std::size_t max_body_bytes = 1024 * 1024;
  std::string server_header;  ///< empty: no Server header
};

class HttpServer {
 public:
  HttpServer(asio::any_io_executor executor, std::shared_ptr<const Router> router,
             HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and starts accepting. Port 0 picks a free port; port() tells which.
  Result<void> listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  std::string host() const;

  /// Stops accepting, closes idle connections and lets requests in flight finish; the
  /// connections they ran on close after their response. Thread-safe, idempotent.
  void stop();
  /// Connections still open.
  std::size_t active_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sb::net
