#include "core/name.hpp"

#include <deque>
#include <mutex>
#include <ostream>
#include <shared_mutex>
#include <unordered_map>

namespace sb {
namespace {

struct Table {
  std::shared_mutex mutex;
  // The stored copies: a deque never moves its elements, so the keys' views stay valid.
  std::deque<std::string> texts;
  std::unordered_map<std::string_view, const std::string*> index;
};

// Never destroyed: names in static objects may still be read while the process exits.
Table& table() {
  static auto* t = new Table;
  return *t;
}

}  // namespace

const std::string& Name::empty_string() noexcept {
  static const std::string empty;
  return empty;
}

Name::Name(std::string_view s) {
  if (s.empty()) return;
  auto& t = table();
  {
    std::shared_lock lock(t.mutex);
    if (auto it = t.index.find(s); it != t.index.end()) {
      p_ = it->second;
      return;
    }
  }
  std::unique_lock lock(t.mutex);
  auto it = t.index.find(s);
  if (it == t.index.end()) {
    // The key views the stored copy, not the caller's text.
    const auto& stored = t.texts.emplace_back(s);
    it = t.index.emplace(stored, &stored).first;
  }
  p_ = it->second;
}

std::size_t interned_names() {
  auto& t = table();
  std::shared_lock lock(t.mutex);
  return t.texts.size();
}

std::string operator+(const Name& a, const Name& b) {
  return a.str() + b.str();
}
std::string operator+(const std::string& a, const Name& b) {
  return a + b.str();
}
std::string operator+(const Name& a, const std::string& b) {
  return a.str() + b;
}
std::string operator+(const char* a, const Name& b) {
  return a + b.str();
}
std::string operator+(const Name& a, const char* b) {
  return a.str() + b;
}
std::string operator+(const Name& a, char b) {
  return a.str() + b;
}
std::string operator+(char a, const Name& b) {
  return a + b.str();
}

std::ostream& operator<<(std::ostream& os, const Name& n) {
  return os << n.view();
}

}  // namespace sb
