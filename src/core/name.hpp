// Interned names: a device id or a metric id held as a pointer to its one stored copy, so that a
// sample carries, copies, compares and hashes its series without a string. A poll makes up to
// a hundred samples, and each used to copy its device and metric strings (an allocation each
// past 15 characters), compare them in the engine's look-ups and hash them again in the store.
//
// A name is interned once per process and kept until the process ends: the names are the
// configured devices' ids and the metric catalogue's ids with vendors' own `vendor.*` fields, a
// set bounded by the configuration, not by time. Thread-safe: interning takes a shared lock on
// the table (an exclusive one only for a name not seen before); reading a name takes none.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace sb {

class Name {
 public:
  /// The empty name.
  constexpr Name() noexcept = default;
  Name(std::string_view s);  // NOLINT(google-explicit-constructor): a name is its text
  Name(const char* s) : Name(std::string_view(s)) {}
  Name(const std::string& s) : Name(std::string_view(s)) {}

  const std::string& str() const noexcept { return p_ ? *p_ : empty_string(); }
  operator const std::string&() const noexcept { return str(); }
  operator std::string_view() const noexcept { return str(); }
  std::string_view view() const noexcept { return str(); }
  const char* c_str() const noexcept { return str().c_str(); }
  std::size_t size() const noexcept { return p_ ? p_->size() : 0; }
  bool empty() const noexcept { return p_ == nullptr; }
  bool starts_with(std::string_view prefix) const noexcept { return view().starts_with(prefix); }
  bool ends_with(std::string_view suffix) const noexcept { return view().ends_with(suffix); }

  /// Identity: one stored copy per text, so equal texts are equal pointers.
  friend bool operator==(const Name& a, const Name& b) noexcept { return a.p_ == b.p_; }
  friend bool operator==(const Name& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator==(const Name& a, const std::string& b) noexcept { return a.view() == b; }
  friend bool operator==(const Name& a, const char* b) noexcept { return a.view() == b; }
  /// By text, as the strings they replace sorted.
  friend std::strong_ordering operator<=>(const Name& a, const Name& b) noexcept {
    return a.p_ == b.p_ ? std::strong_ordering::equal : a.view() <=> b.view();
  }

  /// A number for hashing: the stored copy's address (stable for the process's life).
  std::size_t key() const noexcept { return reinterpret_cast<std::size_t>(p_); }

 private:
  static const std::string& empty_string() noexcept;
  const std::string* p_ = nullptr;
};

std::string operator+(const Name& a, const Name& b);
std::string operator+(const std::string& a, const Name& b);
std::string operator+(const Name& a, const std::string& b);
std::string operator+(const char* a, const Name& b);
std::string operator+(const Name& a, const char* b);
std::string operator+(const Name& a, char b);
std::string operator+(char a, const Name& b);
std::ostream& operator<<(std::ostream& os, const Name& n);

/// How many names the process holds (for /metrics and the memory figures).
std::size_t interned_names();

}  // namespace sb

template <>
struct std::hash<sb::Name> {
  std::size_t operator()(const sb::Name& n) const noexcept {
    // The addresses are aligned: fold the low bits that are always zero away.
    auto k = n.key();
    return k ^ (k >> 4) ^ (k >> 17);
  }
};
