#include "core/registry.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include <stdexcept>

namespace sb {

void DriverRegistry::add(Entry entry) {
  if (entry.name.empty() || !entry.factory)
    throw std::logic_error("driver registry: an entry needs a name and a factory");
  if (find(entry.name))
    throw std::logic_error("driver registry: vendor '" + entry.name + "' registered twice");
  entries_.push_back(std::move(entry));
}

const DriverRegistry::Entry* DriverRegistry::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::vector<std::string> DriverRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

std::string DriverRegistry::check_vendor(std::string_view name) const {
  if (find(name)) return {};
  std::string valid;
  for (const auto& e : entries_) valid += (valid.empty() ? "" : ", ") + e.name;
  return "unknown vendor '" + std::string(name) + "' (valid: " + valid + ")";
}

Result<std::unique_ptr<Driver>> DriverRegistry::create(const ConnectionConfig& config,
                                                       const DriverEnv& env) const {
  const Entry* e = find(config.vendor);
  if (!e) {
    std::string where = config.where.empty() ? "" : config.where + ": ";
    return fail(ErrorKind::InvalidArgument, where + check_vendor(config.vendor));
  }
  return e->factory(config, env);
}

std::string OptionReader::text(const std::string& key) const {
  auto it = c_.options.find(key);
  return it == c_.options.end() ? std::string() : it->second;
}

void OptionReader::refuse(const std::string& key, const std::string& message) {
  auto at = key.empty() ? c_.option_where.end() : c_.option_where.find(key);
  errors_.push_back((at != c_.option_where.end() ? at->second : c_.where) + ": connection '" +
                    c_.name + "': " + message);
}

std::string OptionReader::required(const std::string& key, std::string_view hint) {
  auto v = text(key);
  if (v.empty()) refuse("", "option " + key + " is required: " + std::string(hint));
  return v;
}

double OptionReader::number(const std::string& key, double lo, double hi, double fallback) {
  if (!has(key)) return fallback;
  const auto& t = c_.options.at(key);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || !std::isfinite(v) || v < lo || v > hi) {
    char range[64];
    std::snprintf(range, sizeof range, "%g..%g", lo, hi);
    refuse(key, "option " + key + " = '" + t + "' must be a number in " + range);
    return fallback;
  }
  return v;
}

Millis OptionReader::seconds(const std::string& key, double lo, double hi, Millis fallback) {
  if (!has(key)) return fallback;
  auto before = errors_.size();
  double v = number(key, lo, hi, 0);
  if (errors_.size() != before) return fallback;
  return Millis(static_cast<std::int64_t>(v * 1000));
}

std::string OptionReader::choice(const std::string& key,
                                 std::initializer_list<std::string_view> choices,
                                 std::string fallback) {
  if (!has(key)) return fallback;
  auto v = text(key);
  std::string list;
  for (auto c : choices) {
    if (v == c) return v;
    list += (list.empty() ? "" : ", ") + std::string(c);
  }
  refuse(key, "option " + key + " = '" + v + "' is not one of " + list);
  return fallback;
}

Error OptionReader::error() const {
  std::string all;
  for (const auto& e : errors_) all += (all.empty() ? "" : "\n") + e;
  return Error{ErrorKind::InvalidArgument, all};
}

}  // namespace sb
