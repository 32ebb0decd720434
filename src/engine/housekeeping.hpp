// The gateway's housekeeping, on its own strand every 10 minutes: whether the database's disk is
// nearly full (an event when it turns so and when it is fine again) and the rows past their
// retention deleted a little at a time, so the writer never waits long.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/clock.hpp"
#include "core/model.hpp"
#include "store/store.hpp"

namespace sb::engine {

/// Whether a disk with `free` of `total` bytes is nearly full: under 5 % or under 500 MiB free.
bool disk_nearly_full(std::int64_t free, std::int64_t total);

struct HousekeepingDeps {
  const Clock& clock;
  store::Store& store;
  boost::asio::thread_pool& blocking;           ///< for store calls
  std::function<store::Retention()> retention;  ///< the setting now (a reload may change it)
  std::function<void(Event)> record_event;      ///< stored and logged
};

class Housekeeper {
 public:
  Housekeeper(boost::asio::any_io_executor executor, HousekeepingDeps deps);
  ~Housekeeper();
  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  /// The first round a minute from now, then every 10 minutes until stop().
  void start();
  /// Ends the rounds (a round under way ends after its current slice). Thread-safe.
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sb::engine
