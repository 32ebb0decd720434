#include "net/http_server.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <mutex>
#include <optional>
#include <set>

#include "core/log.hpp"
#include "net/json.hpp"

namespace sb::net {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string error_json(std::string_view kind, std::string_view message) {
  boost::json::object o;
  o["error"] = boost::json::object{{"kind", kind}, {"message", message}};
  return to_json(o);
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
  routes_.push_back({std::move(method), split_path(pattern), std::move(handler)});
}

bool Router::match(const Route& r, const std::vector<std::string>& path,
                   std::map<std::string, std::string>& params) {
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < r.segments.size(); ++i) {
    const auto& seg = r.segments[i];
    bool param = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
    if (param && seg[seg.size() - 2] == '*') {  // rest of the path
      std::string rest;
      for (std::size_t j = i; j < path.size(); ++j) rest += (j > i ? "/" : "") + path[j];
      found[seg.substr(1, seg.size() - 3)] = rest;
      params = std::move(found);
      return true;
    }
    if (i >= path.size()) return false;
    if (param) {
      found[seg.substr(1, seg.size() - 2)] = path[i];
    } else if (seg != path[i]) {
      return false;
    }
  }
  if (r.segments.size() != path.size()) return false;
  params = std::move(found);
  return true;
}

asio::awaitable<ServerResponse> Router::dispatch(ServerRequest& request) const {
  auto path = request.segments.empty() ? split_path(request.path) : request.segments;
  std::string allow;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!match(r, path, params)) continue;
    if (r.method == request.method || (request.method == "HEAD" && r.method == "GET")) {
      request.params = std::move(params);
      co_return co_await r.handler(request);
    }
    if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
  }
  if (!allow.empty()) {
    if (method_not_allowed_) {
      request.params["allow"] = allow;
      co_return co_await method_not_allowed_(request);
    }
    auto res = ServerResponse::json(
        405, error_json("method_not_allowed", request.method + " is not allowed on " +
                                                  request.path + " (allowed: " + allow + ")"));
    res.headers.emplace_back("Allow", allow);
    co_return res;
  }
  if (not_found_) co_return co_await not_found_(request);
  co_return ServerResponse::json(404, error_json("not_found", "no route for " + request.path));
}

namespace {

// The router's view of a parsed request. `bad_target`: the target is not a path and query.
ServerRequest to_request(http::request<http::string_body>& msg, std::string remote,
                         bool& bad_target) {
  ServerRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.remote = std::move(remote);
  // Browsers and common clients (axios: `a[]=1`) send square brackets in the query unencoded,
  // which RFC 3986 does not allow there; accept them as their encoded form.
  std::string lenient = req.target;
  if (auto q = lenient.find('?'); q != std::string::npos)
    for (auto i = lenient.size(); i-- > q;)
      if (lenient[i] == '[' || lenient[i] == ']')
        lenient.replace(i, 1, lenient[i] == '[' ? "%5B" : "%5D");
  auto parsed = boost::urls::parse_origin_form(lenient);
  if (!parsed) {
    bad_target = true;
    return req;
  }
  req.path = "/";
  bool first = true;
  for (auto seg : parsed->segments()) {
    if (!first) req.path += '/';
    req.path += seg;
    first = false;
    if (!seg.empty()) req.segments.push_back(seg);
  }
  for (auto p : parsed->params()) {
    req.query[p.key] = p.has_value ? p.value : "";
    req.query_list.emplace_back(p.key, p.has_value ? p.value : "");
  }
  for (const auto& f : msg)
    req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  req.body = std::move(msg.body());
  return req;
}

}  // namespace

Result<ServerRequest> parse_request(std::string_view raw, std::size_t max_body) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(max_body);
  parser.eager(true);
  beast::error_code ec;
  auto used = parser.put(asio::buffer(raw.data(), raw.size()), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done())
    return fail(ErrorKind::InvalidArgument,
                "malformed HTTP request: " + (ec ? ec.message() : std::string("incomplete")) +
                    " at byte " + std::to_string(used));
  auto msg = parser.release();
  bool bad_target = false;
  auto req = to_request(msg, "", bad_target);
  if (bad_target) return fail(ErrorKind::InvalidArgument, "malformed request target");
  return req;
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  struct Session {
    beast::tcp_stream stream;
    std::atomic<bool> busy{false};  // written on the session's strand, read by the acceptor
    /// When it last finished a request (steady clock, ns): the oldest idle one is closed first
    /// when descriptors run out.
    std::atomic<std::int64_t> idle_since{0};
    explicit Session(tcp::socket s) : stream(std::move(s)) {}
  };

  asio::any_io_executor executor;
  std::shared_ptr<const Router> router;
  HttpServerOptions options;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  mutable std::mutex mutex;
  std::set<std::shared_ptr<Session>> sessions;
  std::uint16_t bound_port = 0;
  std::string bound_host;

  Impl(asio::any_io_executor ex, std::shared_ptr<const Router> r, HttpServerOptions o)
      : executor(ex),
        router(std::move(r)),
        options(std::move(o)),
        acceptor(asio::make_strand(ex)) {}

  // Closes the connection that has waited longest for a next request; false when none idles.
  bool close_oldest_idle() {
    std::shared_ptr<Session> oldest;
    {
      std::lock_guard lock(mutex);
      for (const auto& s : sessions)
        if (!s->busy && (!oldest || s->idle_since < oldest->idle_since)) oldest = s;
    }
    if (!oldest) return false;
    asio::post(oldest->stream.get_executor(), [oldest] {
      beast::error_code ignored;
      oldest->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      oldest->stream.socket().close(ignored);
    });
    return true;
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    // A shortage is one episode until a minute passes without one: logged once, not per accept.
    std::optional<std::chrono::steady_clock::time_point> last_shortage;
    asio::steady_timer pause(acceptor.get_executor());
    for (;;) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(
          asio::make_strand(executor), asio::redirect_error(asio::use_awaitable, ec));
      if (stopping) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        // Out of file descriptors, the connection stays queued and the acceptor is ready again
        // at once: retrying at once spins a core and serves no one. Make room (the oldest idle
        // keep-alive connection goes), wait a moment, try again; say so once per episode.
        if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
          bool freed = close_oldest_idle();
          auto now = std::chrono::steady_clock::now();
          if (!last_shortage || now - *last_shortage > std::chrono::minutes(1))
            log(LogLevel::Warning, "http", "",
                "too many open files on " + bound_host + ":" + std::to_string(bound_port) + " (" +
                    ec.message() +
                    "): new connections wait a moment each; idle keep-alive connections are "
                    "closed, oldest first, to make room (raise LimitNOFILE / ulimit -n)" +
                    (freed ? "" : "; none idles now"));
          last_shortage = now;
          pause.expires_after(std::chrono::milliseconds(100));
          co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        continue;  // e.g. a connection reset before it was accepted
      }

      auto session = std::make_shared<Session>(std::move(socket));
      {
        std::lock_guard lock(mutex);
        sessions.insert(session);
      }
      auto ex = session->stream.get_executor();
      asio::co_spawn(ex, serve(session), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<Session> s) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    for (;;) {
      s->idle_since = std::chrono::steady_clock::now().time_since_epoch().count();
      s->busy = false;
      if (stopping) break;
      beast::error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      s->stream.expires_after(options.idle_timeout);
      co_await http::async_read(s->stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == http::error::body_limit) {
          auto res = ServerResponse::json(
              413,
              error_json("payload_too_large",
                         "request body over " + std::to_string(options.max_body_bytes) + " bytes"));
          auto op = write(s, 11, std::move(res), false);
          co_await std::move(op);
        } else if (parser.got_some() && ec != beast::error::timeout &&
                   ec != http::error::end_of_stream && ec != asio::error::operation_aborted) {
          auto res = ServerResponse::json(
              400, error_json("bad_request", "malformed HTTP request: " + ec.message()));
          auto op = write(s, 11, std::move(res), false);
          co_await std::move(op);
        }
        break;
      }
      s->busy = true;
      auto msg = parser.release();
      bool keep_alive = msg.keep_alive();
      unsigned version = msg.version();
      bool bad_target = false;
      std::string remote;
      {
        beast::error_code rec;
        auto rep = s->stream.socket().remote_endpoint(rec);
        if (!rec) remote = rep.address().to_string() + ":" + std::to_string(rep.port());
      }
      ServerRequest req = to_request(msg, std::move(remote), bad_target);
      ServerResponse res;
      if (bad_target) {
        res = ServerResponse::json(400, error_json("bad_request", "malformed request target"));
      } else {
        try {
          res = co_await router->dispatch(req);
        } catch (const std::exception& e) {
          res = ServerResponse::json(500, error_json("internal", e.what()));
        }
      }
      if (res.drop) break;
      if (log_enabled(LogLevel::Debug))
        log(LogLevel::Debug, "api", "",
            req.method + " " + req.path + " -> " + std::to_string(res.status) + " for " +
                req.remote);
      bool keep = keep_alive && !res.close && !stopping;
      if (req.method == "HEAD") res.body.clear();
      auto op = write(s, version, std::move(res), keep);
      if (!co_await std::move(op)) break;
      if (!keep) break;
    }
    beast::error_code ignored;
    s->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    s->stream.socket().close(ignored);
    std::lock_guard lock(mutex);
    sessions.erase(s);
  }

  asio::awaitable<bool> write(const std::shared_ptr<Session>& s, unsigned version,
                              ServerResponse res, bool keep_alive) {
    if (res.stream) {
      auto op = write_stream(s, version, std::move(res));
      co_return co_await std::move(op);
    }
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    if (!options.server_header.empty()) out.set(http::field::server, options.server_header);
    if (!res.content_type.empty()) out.set(http::field::content_type, res.content_type);
    if (!res.reason.empty()) out.reason(res.reason);
    for (const auto& h : res.headers) out.set(h.first, h.second);
    out.body() = std::move(res.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    beast::error_code ec;
    s->stream.expires_after(options.request_timeout);
    co_await http::async_write(s->stream, out, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  // Chunked, closing after the last piece; the request timeout applies to each write.
  asio::awaitable<bool> write_stream(const std::shared_ptr<Session>& s, unsigned version,
                                     ServerResponse res) {
    http::response<http::empty_body> out{static_cast<http::status>(res.status), version};
    if (!options.server_header.empty()) out.set(http::field::server, options.server_header);
    if (!res.content_type.empty()) out.set(http::field::content_type, res.content_type);
    if (!res.reason.empty()) out.reason(res.reason);
    for (const auto& h : res.headers) out.set(h.first, h.second);
    out.keep_alive(false);
    out.chunked(true);
    http::response_serializer<http::empty_body> sr{out};
    beast::error_code ec;
    s->stream.expires_after(options.request_timeout);
    co_await http::async_write_header(s->stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    for (;;) {
      auto piece_op = res.stream->next(stopping);
      auto piece = co_await std::move(piece_op);
      s->stream.expires_after(options.request_timeout);
      if (!piece) {
        if (res.stream->aborted()) co_return false;
        co_await asio::async_write(s->stream, http::make_chunk_last(),
                                   asio::redirect_error(asio::use_awaitable, ec));
        co_return false;
      }
      if (piece->empty()) continue;
      co_await asio::async_write(s->stream, http::make_chunk(asio::buffer(*piece)),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
    }
  }
};

HttpServer::HttpServer(asio::any_io_executor executor, std::shared_ptr<const Router> router,
                       HttpServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(router), std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

Result<void> HttpServer::listen(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec)
    return fail(ErrorKind::InvalidArgument, "listen address '" + host + "' is not an IP address");
  tcp::endpoint ep{address, port};
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acc.close(ignored);
    return fail(ErrorKind::Transport,
                "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  impl_->bound_port = acc.local_endpoint().port();
  impl_->bound_host = host;
  asio::co_spawn(acc.get_executor(), impl_->accept_loop(), asio::detached);
  return {};
}

std::uint16_t HttpServer::port() const {
  return impl_->bound_port;
}
std::string HttpServer::host() const {
  return impl_->bound_host;
}

void HttpServer::stop() {
  auto impl = impl_;
  if (impl->stopping.exchange(true)) return;
  asio::post(impl->acceptor.get_executor(), [impl] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  std::lock_guard lock(impl->mutex);
  for (const auto& s : impl->sessions) {
    asio::post(s->stream.get_executor(), [s] {
      if (!s->busy) {  // idle in keep-alive: close now; busy ones close after their response
        beast::error_code ignored;
        s->stream.socket().cancel(ignored);
      }
    });
  }
}

std::size_t HttpServer::active_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->sessions.size();
}

}  // namespace sb::net
