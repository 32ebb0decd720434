// Test support: an io_context on background threads, and a way to wait for a coroutine's
// result from a test body. For tests only.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <thread>
#include <vector>

namespace sb::net {

/// The request timeout of tests that check what an answer says, not how soon it comes: long,
/// so that a loaded machine (a sanitizer build beside a compile) does not turn a slow answer
/// into a failure. Tests of timeouts set their own.
inline constexpr std::chrono::milliseconds kTestRequestTimeout{30'000};

class TestIo {
 public:
  explicit TestIo(int threads = 2) : guard_(io_.get_executor()) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~TestIo() {
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  boost::asio::io_context& io() { return io_; }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

  /// Runs the coroutine on the io_context and waits for its value (exceptions propagate).
  template <class T>
  T run(boost::asio::awaitable<T> a) {
    return boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future).get();
  }
  void run(boost::asio::awaitable<void> a) {
    boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace sb::net
