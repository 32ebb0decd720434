// The write queue every store shares: pollers hand samples over without blocking, one thread
// writes them in batches through the store's own write function, a database held by someone
// else is waited for, and what cannot be kept is counted and remembered per device, for the
// engine to record as gaps. Internal to the stores.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace sb::store {

class SampleQueue {
 public:
  /// Writes one batch in one transaction (called on the queue's thread only).
  using WriteFn = std::function<Result<void>(const std::vector<Sample>&)>;
  /// Whether the write that just failed met a database busy elsewhere: it is waited for and
  /// tried again for as long as it lasts, where any other failure gets three tries.
  using BusyFn = std::function<bool()>;

  SampleQueue(std::size_t capacity, std::size_t max_batch, WriteFn write, BusyFn busy);
  ~SampleQueue();
  SampleQueue(const SampleQueue&) = delete;
  SampleQueue& operator=(const SampleQueue&) = delete;

  /// Starts the writer thread.
  void start();
  /// Refuses new samples, writes what is queued and joins the thread. Idempotent.
  void stop();

  Result<void> enqueue(std::vector<Sample> samples);
  /// Waits until what was enqueued before the call is written; the last write error, if any.
  Result<void> flush();
  std::vector<DroppedSamples> take_dropped(const std::vector<std::string>& devices);
  /// A batch written around the queue (Store::write_samples) counts in the figures too.
  void count_written(std::size_t n) {
    written_ += n;
    ++batches_;
  }

  /// Fills the queue's figures: written, dropped, batches, depth, busy retries, last error.
  void fill(StoreStats& s) const;

 private:
  void loop();
  // Caller holds mutex_.
  void note_dropped_locked(const std::vector<Sample>& samples, const std::string& why);

  const std::size_t capacity_, max_batch_;
  WriteFn write_;
  BusyFn busy_;
  mutable std::mutex mutex_;
  std::condition_variable queue_cv_, drained_cv_;
  std::deque<std::vector<Sample>> queue_;
  std::size_t queued_ = 0, in_flight_ = 0;
  std::uint64_t enqueued_batches_ = 0, done_batches_ = 0;
  bool closed_ = false, running_ = false;
  std::uint64_t dropped_ = 0, busy_retries_ = 0;
  std::map<std::string, DroppedSamples> lost_;  // by device, until the engine takes them
  std::atomic<std::uint64_t> written_{0}, batches_{0};
  std::string last_error_;
  std::thread thread_;
};

}  // namespace sb::store
