// A JSON document read as a stream of events, without building a DOM: the polling hot path's
// decoders (sonnen status, KOSTAL process data) read the common shape of a vendor's answer
// straight into their wire structs with it. They are fast paths only: when the stream is not
// JSON, or a sink meets anything but the common shape (a numeric string, a duplicate key, a
// missing field), the decoder falls back to its DOM decoder (net/json.hpp), which accepts what
// it accepts and words every error. So a fast path never changes what is accepted or what an
// error says; the fuzz target fuzz_fast_decode checks that both agree.
#pragma once

#include <cstdint>
#include <string_view>

namespace sb::net {

/// Receives the events of one document in order. Views are valid during the call only. A call
/// that returns false stops the stream (stream_json() then returns false).
class JsonSink {
 public:
  virtual ~JsonSink() = default;
  virtual bool object_begin() = 0;
  virtual bool object_end() = 0;
  virtual bool array_begin() = 0;
  virtual bool array_end() = 0;
  virtual bool key(std::string_view k) = 0;
  virtual bool string(std::string_view s) = 0;
  /// Any JSON number: integers above 2^53 lose precision, as json::value's as_double does.
  virtual bool number(double v) = 0;
  virtual bool boolean(bool b) = 0;
  virtual bool null() = 0;
};

/// Streams `text`, one JSON value and nothing after it but white space, through `sink`. False
/// when the text is not that or the sink stopped; the caller's DOM decoder says why.
bool stream_json(std::string_view text, JsonSink& sink);

/// A sink that follows nesting and drops what a decoder does not want: a decoder derived from
/// it sees values only at the depths it cares about and calls skip() for a value it ignores,
/// whatever its shape.
class DepthSink : public JsonSink {
 public:
  bool object_begin() final { return enter(true); }
  bool object_end() final { return leave(true); }
  bool array_begin() final { return enter(false); }
  bool array_end() final { return leave(false); }
  bool key(std::string_view k) final { return skipping_ ? true : on_key(k); }
  bool string(std::string_view s) final { return dropped() ? true : on_string(s); }
  bool number(double v) final { return dropped() ? true : on_number(v); }
  bool boolean(bool b) final { return dropped() ? true : on_bool(b); }
  bool null() final { return dropped() ? true : on_null(); }

 protected:
  /// The nesting inside which the next event sits (0: the document; 1: inside the top object
  /// or array).
  int depth() const { return depth_; }
  /// Drops the next value (a scalar, or an object or array with everything in it).
  void skip() { skip_next_ = true; }

  virtual bool on_begin(bool object) = 0;  ///< entered: depth() is already one deeper
  virtual bool on_end(bool object) = 0;    ///< left: depth() is already one less
  virtual bool on_key(std::string_view k) = 0;
  virtual bool on_string(std::string_view s) = 0;
  virtual bool on_number(double v) = 0;
  virtual bool on_bool(bool) { return false; }
  virtual bool on_null() { return false; }

 private:
  bool enter(bool object) {
    if (skipping_ || skip_next_) {
      skip_next_ = false;
      ++skipping_;
      return true;
    }
    ++depth_;
    return on_begin(object);
  }
  bool leave(bool object) {
    if (skipping_) {
      --skipping_;
      return true;
    }
    --depth_;
    return on_end(object);
  }
  /// True when the scalar is inside a skipped value or is the one skip() asked to drop.
  bool dropped() {
    if (skipping_) return true;
    if (!skip_next_) return false;
    skip_next_ = false;
    return true;
  }

  int depth_ = 0;
  int skipping_ = 0;  ///< objects and arrays open inside a skipped value
  bool skip_next_ = false;
};

}  // namespace sb::net
