#include "engine/housekeeping.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

#include "core/log.hpp"
#include "net/blocking.hpp"

namespace sb::engine {

namespace asio = boost::asio;

bool disk_nearly_full(std::int64_t free, std::int64_t total) {
  return free < std::max<std::int64_t>(500LL * 1024 * 1024, total / 20);
}

struct Housekeeper::State {
  HousekeepingDeps deps;
  asio::steady_timer timer;
  std::atomic<bool> stopping{false};
  bool low = false;  // the disk was nearly full at the last look

  State(asio::any_io_executor ex, HousekeepingDeps d)
      : deps(std::move(d)), timer(asio::make_strand(ex)) {}

  void look_at_disk(const store::StoreStats& st) {
    if (st.disk_free_bytes < 0 || st.disk_total_bytes <= 0) return;
    bool now_low = disk_nearly_full(st.disk_free_bytes, st.disk_total_bytes);
    if (now_low == low) return;
    low = now_low;
    auto mib = [](std::int64_t b) { return std::to_string(b / (1024 * 1024)) + " MiB"; };
    deps.record_event({"sunbridge", deps.clock.now(), now_low ? Severity::Warning : Severity::Info,
                       now_low ? "store.disk_low" : "store.disk_ok",
                       "the database's disk has " + mib(st.disk_free_bytes) + " free of " +
                           mib(st.disk_total_bytes) + " (the database: " + mib(st.database_bytes) +
                           ")" +
                           (now_low ? "; shorten storage.retention or make room, or the history "
                                      "stops being written"
                                    : "")});
  }

  static asio::awaitable<void> run(std::shared_ptr<State> self) {
    auto& s = *self;
    Millis wait_for = Millis(60'000);  // the first look a minute after the start
    while (!s.stopping) {
      s.timer.expires_after(wait_for);
      boost::system::error_code ec;
      co_await s.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (s.stopping) break;
      wait_for = Millis(600'000);
      auto sop = net::run_blocking(s.deps.blocking, [self] { return self->deps.store.stats(); });
      s.look_at_disk(co_await std::move(sop));
      // Retention in slices of 200 ms (the writer waits no longer), at most 10 s a round (real
      // time: it bounds how long the disk is kept busy, whatever the simulated clock says).
      auto started = std::chrono::steady_clock::now();
      std::int64_t deleted = 0;
      auto retention = s.deps.retention();
      while (!s.stopping && std::chrono::steady_clock::now() - started < std::chrono::seconds(10)) {
        auto op = net::run_blocking(s.deps.blocking, [self, retention] {
          return self->deps.store.prune(retention, self->deps.clock.now(), Millis(200));
        });
        auto n = co_await std::move(op);
        if (!n) {
          log(LogLevel::Warning, "store", "", "retention: " + n.error().message);
          break;
        }
        deleted += *n;
        if (*n == 0) break;
      }
      if (deleted > 0)
        log(LogLevel::Info, "store", "",
            "retention: deleted " + std::to_string(deleted) + " rows past storage.retention");
    }
  }
};

Housekeeper::Housekeeper(asio::any_io_executor executor, HousekeepingDeps deps)
    : state_(std::make_shared<State>(std::move(executor), std::move(deps))) {}

Housekeeper::~Housekeeper() {
  stop();
}

void Housekeeper::start() {
  asio::co_spawn(
      state_->timer.get_executor(), [s = state_] { return State::run(s); }, asio::detached);
}

void Housekeeper::stop() {
  if (state_->stopping.exchange(true)) return;
  asio::post(state_->timer.get_executor(), [s = state_] { s->timer.cancel(); });
}

}  // namespace sb::engine
