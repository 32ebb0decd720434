#include "net/http_client.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <map>
#include <mutex>

namespace sb::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }
  void close() {
    beast::error_code ec;
    lowest().socket().close(ec);
  }
};

// Failure of one exchange; `before_response` says no byte of a response arrived, so a stale
// keep-alive connection may be the cause and a retry on a fresh one is safe.
struct ExchangeError {
  Error error;
  bool before_response = false;
  bool write_failed = false;  ///< the request never fully left: always safe to resend
};

Error from_ec(const beast::error_code& ec, std::string_view what, const Endpoint& ep) {
  // Nothing here cancels an operation but the stream's own timer.
  if (ec == beast::error::timeout || ec == asio::error::timed_out ||
      ec == asio::error::operation_aborted)
    return Error{ErrorKind::Timeout, std::string(what) + " " + ep.str() + ": timed out"};
  return Error{ErrorKind::Transport, std::string(what) + " " + ep.str() + ": " + ec.message()};
}

}  // namespace

struct HttpClient::Impl {
  asio::any_io_executor executor;
  HttpClientOptions options;
  ssl::context tls_context{ssl::context::tls_client};
  mutable std::mutex mutex;
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> idle;
  std::atomic<std::uint64_t> opened{0};

  std::unique_ptr<Connection> take_idle(const std::string& key) {
    std::lock_guard lock(mutex);
    auto it = idle.find(key);
    if (it == idle.end() || it->second.empty()) return nullptr;
    auto c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }

  void put_idle(const std::string& key, std::unique_ptr<Connection> c) {
    std::lock_guard lock(mutex);
    auto& q = idle[key];
    q.push_back(std::move(c));
    while (q.size() > options.max_idle_per_host) {
      q.front()->close();
      q.pop_front();
    }
  }

  asio::awaitable<Result<std::unique_ptr<Connection>>> connect(const Endpoint& ep) {
    beast::error_code ec;
    tcp::resolver resolver(executor);
    const std::string port = std::to_string(ep.port);  // named: no temporaries across co_await
    auto results = co_await resolver.async_resolve(ep.host, port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail(ErrorKind::Transport, "resolve " + ep.host + ": " + ec.message());
    auto c = std::make_unique<Connection>();
    // Each connection on its own strand: Beast's timeout timer and the socket's operations
    // must not run concurrently when the io_context has several threads.
    auto strand = asio::make_strand(executor);
    if (ep.tls) {
      c->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(strand, tls_context);
    } else {
      c->plain = std::make_unique<beast::tcp_stream>(strand);
    }
    auto& lowest = c->lowest();
    lowest.expires_after(options.connect_timeout);
    co_await lowest.async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail(from_ec(ec, "connect", ep));
    lowest.socket().set_option(tcp::no_delay(true), ec);
    if (ep.tls) {
      if (!SSL_set_tlsext_host_name(c->secure->native_handle(), ep.host.c_str()))
        co_return fail(ErrorKind::Transport, "TLS " + ep.str() + ": cannot set SNI host name");
      if (options.verify_tls) {
        c->secure->set_verify_mode(ssl::verify_peer);
        c->secure->set_verify_callback(ssl::host_name_verification(ep.host));
      } else {
        c->secure->set_verify_mode(ssl::verify_none);
      }
      co_await c->secure->async_handshake(ssl::stream_base::client,
                                          asio::redirect_error(asio::use_awaitable, ec));
      if (ec)
        co_return fail(ErrorKind::Transport, "TLS handshake " + ep.str() + ": " + ec.message());
    }
    ++opened;
    co_return c;
  }

  template <class Stream>
  asio::awaitable<std::expected<std::pair<HttpResponse, bool>, ExchangeError>> exchange(
      Stream& stream, Connection& c, const Endpoint& ep, const HttpRequest& r) {
    beast::error_code ec;
    auto verb = http::string_to_verb(r.method);
    if (verb == http::verb::unknown)
      co_return std::unexpected(
          ExchangeError{Error{ErrorKind::InvalidArgument, "unknown HTTP method " + r.method}});
    http::request<http::string_body> req{verb, r.target, 11};
    req.set(http::field::host, ep.host);
    req.set(http::field::user_agent, options.user_agent);
    for (const auto& h : r.headers) req.set(h.first, h.second);
    if (!r.body.empty() || verb == http::verb::post || verb == http::verb::put) {
      req.body() = r.body;
      req.prepare_payload();
    }
    req.keep_alive(true);
    c.lowest().expires_after(r.timeout.value_or(options.request_timeout));
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return std::unexpected(
          ExchangeError{from_ec(ec, r.method + " " + r.target, ep), true, true});
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    co_await http::async_read(stream, c.buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      bool nothing = !parser.got_some();
      if (ec == http::error::body_limit)
        co_return std::unexpected(ExchangeError{
            Error{ErrorKind::Protocol, r.method + " " + r.target + " " + ep.str() +
                                           ": response body over " +
                                           std::to_string(options.max_body_bytes) + " bytes"}});
      if (!nothing && ec != beast::error::timeout)
        co_return std::unexpected(
            ExchangeError{Error{ErrorKind::Protocol, r.method + " " + r.target + " " + ep.str() +
                                                         ": malformed response: " + ec.message()}});
      co_return std::unexpected(ExchangeError{from_ec(ec, r.method + " " + r.target, ep), nothing});
    }
    auto msg = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg)
      out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(msg.body());
    co_return std::pair{std::move(out), msg.keep_alive()};
  }
};

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientOptions options)
    : impl_(std::make_shared<Impl>()) {
  impl_->executor = std::move(executor);
  impl_->options = std::move(options);
  impl_->tls_context.set_default_verify_paths();
  if (!impl_->options.ca_file.empty()) impl_->tls_context.load_verify_file(impl_->options.ca_file);
  impl_->tls_context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                 ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                 ssl::context::no_tlsv1_1);
}

HttpClient::~HttpClient() {
  close_idle();
}

asio::awaitable<Result<HttpResponse>> HttpClient::request(Endpoint ep, HttpRequest r) {
  auto impl = impl_;  // keeps the pool alive while this coroutine runs
  const std::string key = ep.str();
  for (int attempt = 0;; ++attempt) {
    auto conn = impl->take_idle(key);
    bool reused = conn != nullptr;
    if (!conn) {
      auto made = co_await impl->connect(ep);
      if (!made) co_return fail(made.error());
      conn = std::move(*made);
    }
    // if/else, not ?: — g++ 12 miscompiles co_await inside a conditional expression.
    std::expected<std::pair<HttpResponse, bool>, ExchangeError> result;
    if (conn->plain) {
      result = co_await impl->exchange(*conn->plain, *conn, ep, r);
    } else {
      result = co_await impl->exchange(*conn->secure, *conn, ep, r);
    }
    if (result) {
      // No structured binding here: g++ 12 miscompiles them in coroutines.
      HttpResponse response = std::move(result->first);
      if (result->second) {
        impl->put_idle(key, std::move(conn));
      } else {
        conn->close();
      }
      co_return std::move(response);
    }
    conn->close();
    // A keep-alive connection the server closed while idle fails before any response byte:
    // one retry on a fresh connection, never more, and a POST only when it never left (it is
    // not idempotent: the server may have acted on it).
    const auto& err = result.error();
    bool idempotent = r.method != "POST" && r.method != "PATCH";
    if (reused && attempt == 0 && (err.write_failed || (err.before_response && idempotent)))
      continue;
    co_return fail(result.error().error);
  }
}

std::uint64_t HttpClient::connections_opened() const {
  return impl_->opened.load();
}

std::size_t HttpClient::idle_connections() const {
  std::lock_guard lock(impl_->mutex);
  std::size_t n = 0;
  for (const auto& [k, q] : impl_->idle) n += q.size();
  return n;
}

void HttpClient::close_idle() {
  std::lock_guard lock(impl_->mutex);
  for (auto& [k, q] : impl_->idle)
    for (auto& c : q) c->close();
  impl_->idle.clear();
}

}  // namespace sb::net
