#include "net/http_client.hpp"

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "core/log.hpp"

namespace sb::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// A connection lives on its own strand: Beast's timeout handler (which closes the socket when
// an exchange takes too long) runs on the executor associated with the operation's handler, so
// every operation's handler is bound to the strand, the coroutine enters the strand before it
// touches the stream, and a connection is closed and destroyed there. Otherwise the timeout
// handler and the coroutine could close the same socket on two io threads at once (ThreadSanitizer
// saw it), and a descriptor number reused in between would be closed under someone else.
struct Connection {
  explicit Connection(asio::any_io_executor ex) : strand(asio::make_strand(std::move(ex))) {}
  asio::strand<asio::any_io_executor> strand;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;
  /// How long it may stay idle and still be used: the server's Keep-Alive hint less a second
  /// (its timer runs from its own last byte), at most HttpClientOptions::max_idle_age.
  std::chrono::milliseconds reusable_for{0};

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }
  void close() {
    beast::error_code ec;
    lowest().socket().close(ec);
  }
  /// Moves the coroutine onto the strand (at once when it is there already).
  auto enter() { return asio::dispatch(asio::bind_executor(strand, asio::use_awaitable)); }
  /// The completion token of this connection's operations: handlers (and the coroutine after
  /// them) run on the strand.
  auto on_strand(beast::error_code& ec) {
    return asio::redirect_error(asio::bind_executor(strand, asio::use_awaitable), ec);
  }
};

// Closes and destroys `c` on its strand, from anywhere: from another connection's coroutine (an
// idle connection dropped to make room, a stale one found at take-up) or from the client's
// owner.
void retire(std::unique_ptr<Connection> c) {
  auto strand = c->strand;
  asio::post(strand, [c = std::shared_ptr<Connection>(std::move(c))] { c->close(); });
}

// Failure of one exchange. `closed_before_response`: the peer closed the connection (end of
// stream, reset) before any byte of a response came, which is what a server does to a
// keep-alive connection it timed out: it never read the request, so a resend is safe whatever
// the method. A timeout is not that: the server may be working on the request.
struct ExchangeError {
  Error error;
  bool closed_before_response = false;
  bool write_failed = false;  ///< the request never fully left: always safe to resend
};

bool closed_by_peer(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::connection_aborted ||
         ec == asio::error::broken_pipe;
}

// "timeout=5, max=100" -> 5 s; nullopt when the header has no timeout.
std::optional<std::chrono::seconds> keep_alive_timeout(std::string_view header) {
  auto at = header.find("timeout=");
  if (at == std::string_view::npos) return std::nullopt;
  unsigned v = 0;
  auto text = header.substr(at + 8);
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || v > 86'400) return std::nullopt;
  return std::chrono::seconds(v);
}

Error from_ec(const beast::error_code& ec, std::string_view what, const Endpoint& ep) {
  // Nothing here cancels an operation but the stream's own timer.
  if (ec == beast::error::timeout || ec == asio::error::timed_out ||
      ec == asio::error::operation_aborted)
    return Error{ErrorKind::Timeout, std::string(what) + " " + ep.str() + ": timed out"};
  return Error{ErrorKind::Transport, std::string(what) + " " + ep.str() + ": " + ec.message()};
}

// The client's view of a parsed response (the body is moved out of `msg`).
HttpResponse to_response(http::response<http::string_body>& msg) {
  HttpResponse out;
  out.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg)
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(msg.body());
  return out;
}

}  // namespace

struct HttpClient::Impl {
  asio::any_io_executor executor;
  HttpClientOptions options;
  // The TLS context is made at the first TLS connection, not before (with a CA file, when the
  // client is made, so that a bad file is reported there). Making it starts OpenSSL: 2.7 MB of
  // memory that a gateway of local devices over plain HTTP need not have (docs/scale.md). The
  // system's CA certificates are read then too: milliseconds each fuzz run need not spend.
  std::once_flag tls_once;
  std::optional<ssl::context> tls;
  ssl::context& tls_context() {
    std::call_once(tls_once, [this] {
      ssl::context c{ssl::context::tls_client};
      if (!options.ca_file.empty()) c.load_verify_file(options.ca_file);
      c.set_default_verify_paths();
      c.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      tls.emplace(std::move(c));
    });
    return *tls;
  }
  mutable std::mutex mutex;
  // Idle keep-alive connections, least recently used first, and each host's of them in the
  // same order: a host's newest is taken for its next request; past a host's cap or the
  // client's, the least recently used goes.
  struct Idle {
    std::string key;
    std::unique_ptr<Connection> connection;
  };
  std::list<Idle> idle;
  std::unordered_map<std::string, std::deque<std::list<Idle>::iterator>> idle_by_key;
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> idle_evicted{0};

  // Caller holds `mutex`. Closes and forgets `it`, which is the front of its host's queue or
  // (when `newest`) the back.
  void drop_idle(std::list<Idle>::iterator it, bool newest, bool close) {
    auto by = idle_by_key.find(it->key);
    if (newest)
      by->second.pop_back();
    else
      by->second.pop_front();
    if (by->second.empty()) idle_by_key.erase(by);
    if (close) retire(std::move(it->connection));
    idle.erase(it);
  }

  // The most recently used idle connection young enough to reuse; older ones are closed (the
  // server has closed them or is about to).
  std::unique_ptr<Connection> take_idle(const std::string& key) {
    std::lock_guard lock(mutex);
    auto now = std::chrono::steady_clock::now();
    for (;;) {
      auto by = idle_by_key.find(key);
      if (by == idle_by_key.end()) return nullptr;
      auto it = by->second.back();
      auto c = std::move(it->connection);
      drop_idle(it, true, false);
      if (now - c->idle_since < c->reusable_for) return c;
      retire(std::move(c));
    }
  }

  void put_idle(const std::string& key, std::unique_ptr<Connection> c,
                std::optional<std::chrono::seconds> hint) {
    c->idle_since = std::chrono::steady_clock::now();
    // An idle connection keeps no read buffer: it held the last response (a KB or more), once
    // for every device of a gateway between its polls. The next read allocates it again.
    if (c->buffer.size() == 0) c->buffer.shrink_to_fit();
    c->reusable_for = options.max_idle_age;
    if (hint)
      c->reusable_for = std::min<std::chrono::milliseconds>(
          c->reusable_for, std::max<std::chrono::milliseconds>(std::chrono::milliseconds(0),
                                                               *hint - std::chrono::seconds(1)));
    if (c->reusable_for.count() <= 0) {
      c->close();
      return;
    }
    std::lock_guard lock(mutex);
    idle.push_back({key, std::move(c)});
    auto& q = idle_by_key[key];
    q.push_back(std::prev(idle.end()));
    if (q.size() > options.max_idle_per_host) drop_idle(q.front(), false, true);
    // The client's cap: each idle connection is an open file, and a gateway of 100,000 devices
    // would otherwise keep one for each.
    while (options.max_idle_total && idle.size() > options.max_idle_total) {
      drop_idle(idle.begin(), false, true);
      idle_evicted.fetch_add(1, std::memory_order_relaxed);
    }
  }

  asio::awaitable<Result<std::unique_ptr<Connection>>> connect(const Endpoint& ep) {
    beast::error_code ec;
    tcp::resolver resolver(executor);
    const std::string port = std::to_string(ep.port);  // named: no temporaries across co_await
    // An address (a device on the LAN, a simulator) needs no look-up: resolved in place, with
    // no trip to the resolver's thread and none of getaddrinfo's interface checks, which cost
    // a gateway of many local devices at every new connection.
    tcp::resolver::results_type results;
    boost::system::error_code literal;
    (void)asio::ip::make_address(ep.host, literal);
    if (!literal)
      results = resolver.resolve(ep.host, port,
                                 tcp::resolver::numeric_host | tcp::resolver::numeric_service, ec);
    else
      results = co_await resolver.async_resolve(ep.host, port,
                                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail(ErrorKind::Transport, "resolve " + ep.host + ": " + ec.message());
    auto c = std::make_unique<Connection>(executor);
    if (ep.tls) {
      c->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(c->strand, tls_context());
    } else {
      c->plain = std::make_unique<beast::tcp_stream>(c->strand);
    }
    co_await c->enter();
    auto& lowest = c->lowest();
    lowest.expires_after(options.connect_timeout);
    co_await lowest.async_connect(results, c->on_strand(ec));
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
      co_await c->secure->async_handshake(ssl::stream_base::client, c->on_strand(ec));
      if (ec)
        co_return fail(ErrorKind::Transport, "TLS handshake " + ep.str() + ": " + ec.message());
    }
    ++opened;
    co_return c;
  }

  struct Exchanged {
    HttpResponse response;
    bool keep_alive = false;
    std::optional<std::chrono::seconds> keep_alive_hint;
  };

  template <class Stream>
  asio::awaitable<std::expected<Exchanged, ExchangeError>> exchange(Stream& stream, Connection& c,
                                                                    const Endpoint& ep,
                                                                    const HttpRequest& r) {
    beast::error_code ec;
    co_await c.enter();
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
    co_await http::async_write(stream, req, c.on_strand(ec));
    if (ec)
      co_return std::unexpected(
          ExchangeError{from_ec(ec, r.method + " " + r.target, ep), false, true});
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    co_await http::async_read(stream, c.buffer, parser, c.on_strand(ec));
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
      co_return std::unexpected(
          ExchangeError{from_ec(ec, r.method + " " + r.target, ep), nothing && closed_by_peer(ec)});
    }
    auto msg = parser.release();
    bool keep_alive = msg.keep_alive();
    auto idle_hint = keep_alive_timeout(msg[http::field::keep_alive]);
    co_return Exchanged{to_response(msg), keep_alive, idle_hint};
  }
};

Result<HttpResponse> parse_response(std::string_view raw, std::size_t max_body) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  parser.eager(true);
  beast::error_code ec;
  auto used = parser.put(asio::buffer(raw.data(), raw.size()), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done())
    return fail(ErrorKind::Protocol,
                "malformed response: " + (ec ? ec.message() : std::string("incomplete")) +
                    " at byte " + std::to_string(used));
  auto msg = parser.release();
  return to_response(msg);
}

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientOptions options)
    : impl_(std::make_shared<Impl>()) {
  impl_->executor = std::move(executor);
  impl_->options = std::move(options);
  if (!impl_->options.ca_file.empty()) impl_->tls_context();  // a bad CA file throws here
}

HttpClient::~HttpClient() {
  close_idle();
}

asio::awaitable<Result<HttpResponse>> HttpClient::request(Endpoint ep, HttpRequest r) {
  // The pool and its options outlive the client while a request of it is out: the client may
  // be destroyed while this coroutine waits (its owner stopping), and `impl_` goes with it.
  auto impl = impl_;
  if (impl->options.fake_peer) co_return impl->options.fake_peer(ep, r);
  auto started = std::chrono::steady_clock::now();
  auto op = request_once(ep, r);
  auto res = co_await std::move(op);
  // The exchange ran on the connection's strand; the caller goes on where it was (a gateway
  // connection's strand, whose state is kept there), not on this one.
  co_await asio::dispatch(asio::use_awaitable);
  if (log_enabled(LogLevel::Debug)) {
    // The path only: a query may carry a key or a code (credentials stay out of logs).
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    auto path = r.target.substr(0, r.target.find('?'));
    log(LogLevel::Debug, "http", "",
        r.method + " " + ep.str() + path + " -> " +
            (res ? std::to_string(res->status) : res.error().describe()) + " in " +
            std::to_string(ms) + " ms");
  }
  if (impl->options.on_exchange) impl->options.on_exchange(r, res);
  co_return res;
}

asio::awaitable<Result<HttpResponse>> HttpClient::request_once(Endpoint ep, HttpRequest r) {
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
    std::expected<Impl::Exchanged, ExchangeError> result;
    if (conn->plain) {
      result = co_await impl->exchange(*conn->plain, *conn, ep, r);
    } else {
      result = co_await impl->exchange(*conn->secure, *conn, ep, r);
    }
    if (result) {
      // No structured binding here: g++ 12 miscompiles them in coroutines.
      HttpResponse response = std::move(result->response);
      if (result->keep_alive) {
        impl->put_idle(key, std::move(conn), result->keep_alive_hint);
      } else {
        conn->close();
      }
      co_return std::move(response);
    }
    conn->close();
    // A keep-alive connection the server closed while idle fails before any response byte:
    // one retry on a fresh connection, never more. The server never read the request, so this
    // holds for a POST too (a FoxESS poll, an Enphase command).
    const auto& err = result.error();
    if (reused && attempt == 0 && (err.write_failed || err.closed_before_response)) continue;
    co_return fail(result.error().error);
  }
}

std::uint64_t HttpClient::connections_opened() const {
  return impl_->opened.load();
}

std::size_t HttpClient::idle_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->idle.size();
}

std::uint64_t HttpClient::idle_evicted() const {
  return impl_->idle_evicted.load();
}

void HttpClient::close_idle() {
  std::lock_guard lock(impl_->mutex);
  for (auto& i : impl_->idle) retire(std::move(i.connection));
  impl_->idle.clear();
  impl_->idle_by_key.clear();
}

}  // namespace sb::net
