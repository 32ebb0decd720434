#include "net/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace sb::net {

Result<json::value> parse_json(std::string_view text, std::string_view what) {
  json::stream_parser p;
  boost::system::error_code ec;
  std::size_t used = p.write_some(text.data(), text.size(), ec);
  if (!ec && used < text.size()) {
    // Only trailing white space may follow the value.
    auto rest = text.substr(used);
    if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      return fail(ErrorKind::Protocol, std::string(what) + ": invalid JSON at byte " +
                                           std::to_string(used) + ": extra data after the value");
    }
  }
  if (!ec) p.finish(ec);
  if (ec) {
    std::string snippet(text.substr(0, 60));
    return fail(ErrorKind::Protocol,
                std::string(what) + ": invalid JSON at byte " + std::to_string(used) + ": " +
                    ec.message() + (text.empty() ? " (empty body)" : " in '" + snippet + "'"));
  }
  return p.release();
}

Result<json::object> parse_json_object(std::string_view text, std::string_view what) {
  auto v = parse_json(text, what);
  if (!v) return fail(v.error());
  if (!v->is_object())
    return fail(ErrorKind::Protocol, std::string(what) + ": expected a JSON object, got " +
                                         std::string(to_string(v->kind())));
  return std::move(v->as_object());
}

double field_number(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  if (!v) return 0;
  if (auto d = as_double(*v)) return *d;
  if (v->is_string()) return std::strtod(std::string(v->as_string()).c_str(), nullptr);
  return 0;
}

std::string field_text(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  if (!v) return "";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  return "";
}

std::optional<double> as_double(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return static_cast<double>(v.get_int64());
    case json::kind::uint64:
      return static_cast<double>(v.get_uint64());
    case json::kind::double_:
      return v.get_double();
    default:
      return std::nullopt;
  }
}

Result<std::optional<double>> get_optional_number(const json::object& o, std::string_view key,
                                                  std::string_view what, bool accept_string) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<double>{};
  if (auto d = as_double(it->value())) return d;
  if (accept_string && it->value().is_string()) {
    auto s = std::string_view(it->value().get_string());
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size()) return std::optional<double>{d};
  }
  return fail(ErrorKind::Protocol, std::string(what) + ": field '" + std::string(key) +
                                       "' should be a number, got " + json::serialize(it->value()));
}

Result<double> get_number(const json::object& o, std::string_view key, std::string_view what,
                          bool accept_string) {
  auto v = get_optional_number(o, key, what, accept_string);
  if (!v) return fail(v.error());
  if (!*v)
    return fail(ErrorKind::Protocol,
                std::string(what) + ": field '" + std::string(key) + "' is missing");
  return **v;
}

Result<std::string> get_string(const json::object& o, std::string_view key, std::string_view what) {
  auto it = o.find(key);
  if (it == o.end())
    return fail(ErrorKind::Protocol,
                std::string(what) + ": field '" + std::string(key) + "' is missing");
  if (!it->value().is_string())
    return fail(ErrorKind::Protocol, std::string(what) + ": field '" + std::string(key) +
                                         "' should be a string, got " +
                                         json::serialize(it->value()));
  return std::string(it->value().get_string());
}

Result<std::int64_t> whole_number(double v, std::int64_t lo, std::int64_t hi, std::string_view what,
                                  std::string_view key) {
  // Compared as doubles before any cast: lo and hi are within ±2^63, where doubles are exact
  // at the ends that matter (kExactInteger, int ranges).
  double r = std::nearbyint(v);
  if (!std::isfinite(v) || r < static_cast<double>(lo) || r > static_cast<double>(hi))
    return fail(ErrorKind::Protocol, std::string(what) + ": field '" + std::string(key) +
                                         "' = " + number_text(v) + " is outside " +
                                         std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<std::int64_t>(r);
}

Result<std::int64_t> get_integer(const json::object& o, std::string_view key, std::string_view what,
                                 std::int64_t lo, std::int64_t hi, bool accept_string) {
  auto v = get_number(o, key, what, accept_string);
  if (!v) return fail(v.error());
  return whole_number(*v, lo, hi, what, key);
}

double FieldReader::finite(double v, std::string_view key) {
  if (std::isfinite(v)) return v;
  if (!error_)
    error_ = Error{ErrorKind::Protocol, what_ + ": field '" + std::string(key) +
                                            "' = " + number_text(v) + " is not a finite number"};
  return 0;
}

double FieldReader::number(const json::object& o, std::string_view key) {
  return finite(field_number(o, key), key);
}

std::optional<double> FieldReader::optional_number(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  return number(o, key);
}

std::int64_t FieldReader::integer(double v, std::string_view key, std::int64_t lo,
                                  std::int64_t hi) {
  auto r = whole_number(v, lo, hi, what_, key);
  if (r) return *r;
  if (!error_) error_ = r.error();
  return 0;
}

std::int64_t FieldReader::integer(const json::object& o, std::string_view key, std::int64_t lo,
                                  std::int64_t hi) {
  if (!o.contains(key)) return 0;
  return integer(field_number(o, key), key, lo, hi);
}

namespace {

void append_number(std::string& out, double d) {
  if (!std::isfinite(d)) {  // JSON has no NaN / Inf
    out += "null";
    return;
  }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  out.append(buf, p);
}

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), 0 when the bytes there are not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto c = at(i);
  std::size_t n = c >= 0xC2 && c <= 0xDF   ? 2
                  : c >= 0xE0 && c <= 0xEF ? 3
                  : c >= 0xF0 && c <= 0xF4 ? 4
                                           : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((at(i + k) & 0xC0) != 0x80) return 0;
  auto c1 = at(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
      (c == 0xF4 && c1 > 0x8F))
    return 0;
  return n;
}

// A JSON string literal, escaped as json::serialize does, without a string of its own. Bytes
// that are not UTF-8 (a vendor's Latin-1 plant name, a request body's
// garbage quoted in an error) become U+FFFD, so what sunbridge writes is always valid JSON.
void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else if (c < 0x80) {
          out += ch;
        } else if (auto n = utf8_sequence(s, i); n > 0) {
          out.append(s.substr(i, n));
          i += n - 1;
        } else {
          out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        }
    }
  }
  out += '"';
}

void write(std::string& out, const json::value& v);

void write_array(std::string& out, const json::array& a) {
  out += '[';
  bool first = true;
  for (const auto& e : a) {
    if (!first) out += ',';
    first = false;
    write(out, e);
  }
  out += ']';
}

void write_object(std::string& out, const json::object& o) {
  out += '{';
  bool first = true;
  for (const auto& kv : o) {
    if (!first) out += ',';
    first = false;
    append_string(out, kv.key());
    out += ':';
    write(out, kv.value());
  }
  out += '}';
}

void write(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case json::kind::double_:
      append_number(out, v.get_double());
      break;
    case json::kind::string:
      append_string(out, v.get_string());
      break;
    case json::kind::array:
      write_array(out, v.get_array());
      break;
    case json::kind::object:
      write_object(out, v.get_object());
      break;
  }
}

}  // namespace

std::string number_text(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(std::int64_t(v));
  char b[32];
  auto [p, ec] = std::to_chars(b, b + sizeof b, v);
  return std::string(b, p);
}

std::string to_json(const json::value& v) {
  std::string out;
  write(out, v);
  return out;
}

std::string to_json(const json::object& o) {
  std::string out;
  write_object(out, o);
  return out;
}

std::string to_json(const json::array& a) {
  std::string out;
  write_array(out, a);
  return out;
}

}  // namespace sb::net
