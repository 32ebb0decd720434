// Runs blocking work (SQLite, PBKDF2) on a thread pool and resumes the calling coroutine on
// its own executor: I/O threads never block.
//
// Deliberately not a coroutine: g++ 12 mishandles callables carried by value through nested
// coroutine frames (double destruction of captures), so the work travels as a plain handler.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace sb::net {

/// `co_await run_blocking(pool, [..] { return work(); })` yields work()'s value.
template <class F>
auto run_blocking(boost::asio::thread_pool& pool, F f) {
  using R = decltype(f());
  namespace asio = boost::asio;
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
      [&pool](auto handler, F work) {
        asio::post(pool, [handler = std::move(handler), work = std::move(work)]() mutable {
          auto ex = asio::get_associated_executor(handler);
          asio::post(ex, [handler = std::move(handler), r = work()]() mutable {
            std::move(handler)(std::move(r));
          });
        });
      },
      asio::use_awaitable, std::move(f));
}

}  // namespace sb::net
