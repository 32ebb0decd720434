// The fault plan of a simulator that serves HTTP: every handler is wrapped so that requests
// are counted and meet latency, dropped connections, the vendor's own error and cut bodies in
// one place; and where such a simulator listens (HttpEndpoint). Header-only; the vendor
// simulators that include it link sb_net.
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "net/http_server.hpp"
#include "sim/faults.hpp"

namespace sb::sim {

struct HttpFaultReplies {
  /// The vendor's internal error (sonnen 500 / ReturnCode 13, KOSTAL 503).
  std::function<net::ServerResponse()> error;
  /// A state-dependent refusal checked after the latency (a device that is booting); may be
  /// empty.
  std::function<std::optional<net::ServerResponse>()> refuse;
};

/// Keeps a simulator alive for the requests it is answering. Handlers hold references into
/// their simulator, and one may be inside a fault's latency when the simulator is stopped and
/// destroyed; close() refuses new requests, cuts latency waits short and waits until the
/// handlers in flight have left. Handlers that enter after close() drop their connection
/// without touching the simulator.
class RequestGate {
 public:
  struct State {
    std::mutex mutex;
    std::condition_variable idle;
    bool closed = false;
    int in_flight = 0;
    bool is_closed() {
      std::lock_guard lock(mutex);
      return closed;
    }
  };
  /// Held by a handler for as long as it may touch its simulator.
  class Pass {
   public:
    explicit Pass(std::shared_ptr<State> s) : s_(std::move(s)) {}
    Pass(Pass&& o) noexcept = default;
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    Pass& operator=(Pass&&) = delete;
    ~Pass() {
      if (!s_) return;
      std::lock_guard lock(s_->mutex);
      if (--s_->in_flight == 0) s_->idle.notify_all();
    }

   private:
    std::shared_ptr<State> s_;
  };

  RequestGate() : state_(std::make_shared<State>()) {}
  ~RequestGate() { close(); }
  RequestGate(const RequestGate&) = delete;
  RequestGate& operator=(const RequestGate&) = delete;

  /// A pass for one request, or nothing once the gate is closed.
  static std::optional<Pass> enter(const std::shared_ptr<State>& s) {
    std::lock_guard lock(s->mutex);
    if (s->closed) return std::nullopt;
    ++s->in_flight;
    return std::optional<Pass>(std::in_place, s);
  }
  const std::shared_ptr<State>& state() const { return state_; }

  /// Idempotent. Call it from a thread that is not running the handlers; the wait is bounded
  /// (a handler stuck elsewhere cannot hang a shutdown).
  void close(std::chrono::milliseconds bound = std::chrono::milliseconds(3000)) {
    std::unique_lock lock(state_->mutex);
    state_->closed = true;
    state_->idle.wait_for(lock, bound, [&] { return state_->in_flight == 0; });
  }

 private:
  std::shared_ptr<State> state_;
};

/// Where a simulator serves HTTP: its server and the gate of its handlers in flight. Stopping
/// closes the listener, then the gate, so nothing of the simulator is touched afterwards.
class HttpEndpoint {
 public:
  explicit HttpEndpoint(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  ~HttpEndpoint() { stop(); }
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  const RequestGate& gate() const { return gate_; }
  Result<void> listen(std::shared_ptr<const net::Router> router, const std::string& host,
                      std::uint16_t port) {
    server_ = std::make_unique<net::HttpServer>(executor_, std::move(router));
    return server_->listen(host, port);
  }
  std::uint16_t port() const { return server_ ? server_->port() : 0; }
  /// "http://127.0.0.1:8080"; empty before listen().
  std::string url() const {
    return server_ ? "http://" + server_->host() + ":" + std::to_string(server_->port()) : "";
  }
  void stop() {
    if (server_) server_->stop();
    gate_.close();
  }

 private:
  boost::asio::any_io_executor executor_;
  RequestGate gate_;
  std::unique_ptr<net::HttpServer> server_;
};

/// A response that closes the connection without an answer.
inline net::ServerResponse dropped_response() {
  net::ServerResponse res;
  res.drop = true;
  return res;
}

/// Wraps a synchronous handler `net::ServerResponse(net::ServerRequest&)`.
template <class H>
net::Handler with_faults(const RequestGate& gate, FaultInjector& faults,
                         std::atomic<std::uint64_t>& requests, HttpFaultReplies replies,
                         H handler) {
  namespace asio = boost::asio;
  return [state = gate.state(), &faults, &requests, replies = std::move(replies),
          handler](net::ServerRequest& req) -> asio::awaitable<net::ServerResponse> {
    auto pass = RequestGate::enter(state);
    if (!pass) co_return dropped_response();
    ++requests;
    if (auto d = faults.latency(); d.count() > 0) {
      // In short steps, so that a closing simulator does not wait for a long latency.
      auto until = std::chrono::steady_clock::now() + d;
      asio::steady_timer t(co_await asio::this_coro::executor);
      while (std::chrono::steady_clock::now() < until && !state->is_closed()) {
        t.expires_at(
            std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
        co_await t.async_wait(asio::use_awaitable);
      }
      if (state->is_closed()) co_return dropped_response();
    }
    if (replies.refuse)
      if (auto refused = replies.refuse()) co_return *refused;
    switch (faults.next()) {
      case FaultAction::Drop:
        co_return dropped_response();
      case FaultAction::Error:
        co_return replies.error();
      case FaultAction::Malformed: {
        auto res = handler(req);
        res.body = res.body.substr(0, res.body.size() / 2);  // cut mid-value
        co_return res;
      }
      case FaultAction::None:
        break;
    }
    co_return handler(req);
  };
}

/// 404 and 405 (with `Allow`) answers that count as requests; the 405 may depend on the
/// request (a vendor with more than one error style).
inline void set_fallbacks(
    net::Router& router, const RequestGate& gate, std::atomic<std::uint64_t>& requests,
    std::function<net::ServerResponse()> not_found,
    std::function<net::ServerResponse(const net::ServerRequest&)> not_allowed) {
  namespace asio = boost::asio;
  router.set_not_found([state = gate.state(), &requests,
                        not_found](net::ServerRequest&) -> asio::awaitable<net::ServerResponse> {
    auto pass = RequestGate::enter(state);
    if (!pass) co_return dropped_response();
    ++requests;
    co_return not_found();
  });
  router.set_method_not_allowed(
      [state = gate.state(), &requests,
       not_allowed](net::ServerRequest& req) -> asio::awaitable<net::ServerResponse> {
        auto pass = RequestGate::enter(state);
        if (!pass) co_return dropped_response();
        ++requests;
        auto res = not_allowed(req);
        res.headers.emplace_back("Allow", req.params["allow"]);
        co_return res;
      });
}
inline void set_fallbacks(net::Router& router, const RequestGate& gate,
                          std::atomic<std::uint64_t>& requests,
                          std::function<net::ServerResponse()> not_found,
                          std::function<net::ServerResponse()> not_allowed) {
  set_fallbacks(router, gate, requests, std::move(not_found),
                [not_allowed](const net::ServerRequest&) { return not_allowed(); });
}

}  // namespace sb::sim
