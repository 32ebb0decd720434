// The fault plan of a simulator that serves HTTP: every handler is wrapped so that requests
// are counted and meet latency, dropped connections, the vendor's own error and cut bodies in
// one place. Header-only; the vendor simulators that include it link sb_net.
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
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

/// Wraps a synchronous handler `net::ServerResponse(net::ServerRequest&)`.
template <class H>
net::Handler with_faults(FaultInjector& faults, std::atomic<std::uint64_t>& requests,
                         HttpFaultReplies replies, H handler) {
  namespace asio = boost::asio;
  return [&faults, &requests, replies = std::move(replies),
          handler](net::ServerRequest& req) -> asio::awaitable<net::ServerResponse> {
    ++requests;
    if (auto d = faults.latency(); d.count() > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, d);
      co_await t.async_wait(asio::use_awaitable);
    }
    if (replies.refuse)
      if (auto refused = replies.refuse()) co_return *refused;
    switch (faults.next()) {
      case FaultAction::Drop: {
        net::ServerResponse res;
        res.drop = true;
        co_return res;
      }
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

/// 404 and 405 (with `Allow`) answers that count as requests.
inline void set_fallbacks(net::Router& router, std::atomic<std::uint64_t>& requests,
                          std::function<net::ServerResponse()> not_found,
                          std::function<net::ServerResponse()> not_allowed) {
  namespace asio = boost::asio;
  router.set_not_found(
      [&requests, not_found](net::ServerRequest&) -> asio::awaitable<net::ServerResponse> {
        ++requests;
        co_return not_found();
      });
  router.set_method_not_allowed(
      [&requests, not_allowed](net::ServerRequest& req) -> asio::awaitable<net::ServerResponse> {
        ++requests;
        auto res = not_allowed();
        res.headers.emplace_back("Allow", req.params["allow"]);
        co_return res;
      });
}

}  // namespace sb::sim
