// HTTP message types shared by the client and the server. No Beast here: callers of the
// client and writers of handlers do not pay for Beast's headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// Case-insensitive header lookup; empty when absent.
std::string_view find_header(const Headers& headers, std::string_view name);
bool iequals(std::string_view a, std::string_view b);

/// Where a request goes.
struct Endpoint {
  std::string host;
  std::uint16_t port = 80;
  bool tls = false;
  std::string str() const;  ///< "http://127.0.0.1:8080"
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";  ///< path and query, already encoded
  Headers headers;
  std::string body;
  std::optional<std::chrono::milliseconds> timeout;  ///< overrides the client's default
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::string_view header(std::string_view name) const { return find_header(headers, name); }
};

class BodyStream;  // net/http_server.hpp

/// A request as a server handler sees it.
struct ServerRequest {
  std::string method;
  std::string target;                        ///< raw, as received
  std::string path;                          ///< decoded path
  std::vector<std::string> segments;         ///< decoded path segments ("a%2Fb" stays one segment)
  std::map<std::string, std::string> query;  ///< decoded query parameters (last one wins)
  std::vector<std::pair<std::string, std::string>> query_list;  ///< all of them, in order
  std::map<std::string, std::string> params;  ///< path parameters from the route pattern
  Headers headers;
  std::string body;
  std::string remote;  ///< "127.0.0.1:53122"
  std::string_view header(std::string_view name) const { return find_header(headers, name); }
};

struct ServerResponse {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;
  std::string body;
  bool close = false;  ///< close the connection after this response
  bool drop = false;   ///< close the connection without answering (fault injection)
  std::string reason;  ///< the status line's phrase for a status HTTP does not name (461)
  /// A body written as it comes (server-sent events): `body` is ignored, the response is sent
  /// chunked and the connection closes after it.
  std::shared_ptr<BodyStream> stream;

  static ServerResponse json(int status, std::string body) {
    ServerResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static ServerResponse text(int status, std::string body,
                             std::string content_type = "text/plain; charset=utf-8") {
    ServerResponse r;
    r.status = status;
    r.content_type = std::move(content_type);
    r.body = std::move(body);
    return r;
  }
};

/// Percent-encodes one path segment or query value (RFC 3986 unreserved characters pass).
std::string url_encode(std::string_view s);

}  // namespace sb::net
