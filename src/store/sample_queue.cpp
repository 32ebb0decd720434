#include "store/sample_queue.hpp"

#include <algorithm>
#include <utility>

namespace sb::store {

SampleQueue::SampleQueue(std::size_t capacity, std::size_t max_batch, WriteFn write, BusyFn busy)
    : capacity_(capacity),
      max_batch_(max_batch),
      write_(std::move(write)),
      busy_(std::move(busy)) {}

SampleQueue::~SampleQueue() {
  stop();
}

void SampleQueue::start() {
  std::lock_guard lock(mutex_);
  // Running from before the thread starts: a flush() that comes first must wait for it.
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void SampleQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    queue_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

Result<void> SampleQueue::enqueue(std::vector<Sample> samples) {
  if (samples.empty()) return {};
  std::lock_guard lock(mutex_);
  if (closed_) return fail(ErrorKind::Internal, "store is closed");
  if (queued_ + in_flight_ + samples.size() > capacity_) {
    auto why = "store queue full (" + std::to_string(queued_) +
               " samples waiting): " + std::to_string(samples.size()) + " samples dropped";
    note_dropped_locked(samples, why);
    return fail(ErrorKind::Internal, why);
  }
  queued_ += samples.size();
  ++enqueued_batches_;
  queue_.push_back(std::move(samples));
  queue_cv_.notify_one();
  return {};
}

Result<void> SampleQueue::flush() {
  // Waits for what was enqueued before this call, not for an empty queue: pollers keep
  // adding while we wait.
  std::unique_lock lock(mutex_);
  auto target = enqueued_batches_;
  drained_cv_.wait(lock, [&] { return done_batches_ >= target || !running_; });
  if (!last_error_.empty()) {
    std::string e = std::exchange(last_error_, {});
    return fail(ErrorKind::Internal, e);
  }
  return {};
}

std::vector<DroppedSamples> SampleQueue::take_dropped(const std::vector<std::string>& devices) {
  std::lock_guard lock(mutex_);
  std::vector<DroppedSamples> out;
  for (const auto& d : devices)
    if (auto it = lost_.find(d); it != lost_.end()) {
      out.push_back(std::move(it->second));
      lost_.erase(it);
    }
  return out;
}

void SampleQueue::fill(StoreStats& s) const {
  std::lock_guard lock(mutex_);
  s.samples_written = written_.load();
  s.samples_dropped = dropped_;
  s.batches = batches_.load();
  s.queue_depth = queued_ + in_flight_;
  s.busy_retries = busy_retries_;
  s.last_error = last_error_;
}

void SampleQueue::note_dropped_locked(const std::vector<Sample>& samples, const std::string& why) {
  dropped_ += samples.size();
  for (const auto& s : samples) {
    auto [it, fresh] = lost_.try_emplace(s.device);
    auto& d = it->second;
    if (fresh) {
      d.device = s.device;
      d.from = d.to = s.time;
    }
    d.from = std::min(d.from, s.time);
    d.to = std::max(d.to, s.time);
    d.samples++;
    d.reason = why;
  }
}

void SampleQueue::loop() {
  for (;;) {
    std::vector<Sample> batch;
    std::uint64_t taken = 0;
    {
      std::unique_lock lock(mutex_);
      queue_cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty() && closed_) break;
      while (!queue_.empty() && batch.size() < max_batch_) {
        ++taken;
        auto& front = queue_.front();
        if (batch.empty()) {
          batch = std::move(front);
        } else {
          batch.insert(batch.end(), std::make_move_iterator(front.begin()),
                       std::make_move_iterator(front.end()));
        }
        queue_.pop_front();
      }
      queued_ -= batch.size();
      in_flight_ = batch.size();
    }
    Result<void> r;
    bool waited = false;
    // A database another process holds (a backup, `sqlite3` open on it, a PostgreSQL lock) is
    // waited for: a lock of 25 s lost 46 samples when three tries were all it got. Meanwhile
    // the queue takes what fits (the batch in flight counts against its capacity) and drops
    // the rest. Any other failure is given three tries.
    for (int attempt = 0;; ++attempt) {
      r = write_(batch);
      if (r) break;
      bool busy = busy_();
      {
        std::lock_guard lock(mutex_);
        if (closed_ || (!busy && attempt >= 3)) break;
        if (busy) {
          last_error_ = r.error().message;  // /health says so while it lasts
          ++busy_retries_;
        }
      }
      waited |= busy;
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(1000, 100 << std::min(attempt, 4))));
    }
    {
      std::lock_guard lock(mutex_);
      in_flight_ = 0;
      done_batches_ += taken;
      if (r) {
        written_ += batch.size();
        ++batches_;
        if (waited) last_error_.clear();
      } else {
        note_dropped_locked(batch, r.error().message);
        last_error_ = r.error().message;
      }
      drained_cv_.notify_all();
    }
  }
  std::lock_guard lock(mutex_);
  running_ = false;
  drained_cv_.notify_all();
}

}  // namespace sb::store
