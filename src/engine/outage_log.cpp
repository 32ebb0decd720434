#include "engine/outage_log.hpp"

#include "core/log.hpp"

namespace sb::engine {

void OutageLog::failure(const Error& e, TimePoint now) {
  constexpr auto kSummaryEvery = std::chrono::minutes(15);
  ++failed_;
  bool first = !failing_since_;
  bool changed = kind_ && *kind_ != e.kind;
  if (first) failing_since_ = now;
  kind_ = e.kind;
  if (!first && !changed && now - last_summary_ < kSummaryEvery) return;
  last_summary_ = now;
  if (e.kind == ErrorKind::Auth) {
    log(LogLevel::Error, "gateway", connection_,
        "credentials refused: " + e.describe() +
            " (then reload: systemctl reload sunbridge, or SIGHUP); tried again once an hour "
            "until then");
  } else if (first || changed) {
    log(LogLevel::Warning, "gateway", connection_,
        (e.kind == ErrorKind::RateLimited ? "the vendor's call budget is spent: "
                                          : "poll failed: ") +
            e.describe() +
            (first ? "; retrying (this is logged again every 15 min while it lasts)" : ""));
  } else {
    log(LogLevel::Warning, "gateway", connection_,
        "still failing after " + duration_text(now - *failing_since_) + ": " +
            std::to_string(failed_) + " polls failed; last: " + e.describe());
  }
}

void OutageLog::recovery(TimePoint now) {
  if (!failing_since_) return;
  log(LogLevel::Info, "gateway", connection_,
      "answers again after " + duration_text(now - *failing_since_) + " (" +
          std::to_string(failed_) + " polls failed)");
  failing_since_.reset();
  failed_ = 0;
  kind_.reset();
}

}  // namespace sb::engine
