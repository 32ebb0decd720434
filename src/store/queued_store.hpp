// What both stores share around their writer: the queue and its thread (SampleQueue), the
// write lock, and whether the last failed write is worth waiting out. A store adds how one
// batch is written (write_batch) and starts the queue once it is open.
#pragma once

#include <atomic>
#include <mutex>

#include "store/sample_queue.hpp"
#include "store/store.hpp"

namespace sb::store {

class QueuedStore : public Store {
 public:
  Result<void> enqueue(std::vector<Sample> samples) final {
    return queue_.enqueue(std::move(samples));
  }
  Result<void> write_samples(const std::vector<Sample>& samples) final {
    std::lock_guard lock(write_mutex_);
    auto r = write_batch(samples, true);
    if (r) queue_.count_written(samples.size());
    return r;
  }
  Result<void> flush() final { return queue_.flush(); }
  std::vector<DroppedSamples> take_dropped(const std::vector<std::string>& devices) final {
    return queue_.take_dropped(devices);
  }

 protected:
  QueuedStore(std::size_t queue_capacity, std::size_t max_batch)
      : queue_(
            queue_capacity, max_batch,
            [this](const std::vector<Sample>& batch) {
              std::lock_guard lock(write_mutex_);
              return write_batch(batch, false);
            },
            [this] { return wait_out_.load(); }) {}

  /// One batch in one transaction; the caller holds write_mutex_. Rolls up the hours it
  /// touched when `roll_all`, else those that are due. Sets wait_out_ when it fails on
  /// something that passes (a database locked by another process, a server restarting).
  virtual Result<void> write_batch(const std::vector<Sample>& samples, bool roll_all) = 0;

  std::mutex write_mutex_;
  std::atomic<bool> wait_out_{false};
  SampleQueue queue_;  // started by the store's open(), stopped by its close()
};

}  // namespace sb::store
