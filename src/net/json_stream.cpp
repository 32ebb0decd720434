#include "net/json_stream.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <string>

namespace sb::net {

namespace {

using boost::json::string_view;
using boost::system::error_code;

// basic_parser's handler: forwards to the sink. Keys and strings come in parts only when the
// parser suspends inside one, which a whole text given at once does not make it do; the parts
// are gathered anyway, so that a sink always sees a whole key or string.
struct Forward {
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  JsonSink* sink;
  std::string part;

  std::string_view whole(string_view s) {
    if (part.empty()) return {s.data(), s.size()};
    part.append(s.data(), s.size());
    return part;
  }
  template <class F>
  bool deliver(string_view s, F&& f) {
    bool ok = f(whole(s));
    part.clear();
    return ok;
  }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return sink->array_begin(); }
  bool on_array_end(std::size_t, error_code&) { return sink->array_end(); }
  bool on_object_begin(error_code&) { return sink->object_begin(); }
  bool on_object_end(std::size_t, error_code&) { return sink->object_end(); }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    part.append(s.data(), s.size());
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    return deliver(s, [&](std::string_view v) { return sink->string(v); });
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    part.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    return deliver(s, [&](std::string_view v) { return sink->key(v); });
  }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, string_view, error_code&) {
    return sink->number(static_cast<double>(i));
  }
  bool on_uint64(std::uint64_t u, string_view, error_code&) {
    return sink->number(static_cast<double>(u));
  }
  bool on_double(double d, string_view, error_code&) { return sink->number(d); }
  bool on_bool(bool b, error_code&) { return sink->boolean(b); }
  bool on_null(error_code&) { return sink->null(); }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

}  // namespace

bool stream_json(std::string_view text, JsonSink& sink) {
  // The same options as the DOM parser (net::parse_json), so both accept the same texts.
  boost::json::basic_parser<Forward> p(boost::json::parse_options{}, &sink, std::string{});
  error_code ec;
  std::size_t used = p.write_some(false, text.data(), text.size(), ec);
  if (ec) return false;
  return text.substr(used).find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace sb::net
