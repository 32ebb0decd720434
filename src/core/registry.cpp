#include "core/registry.hpp"

#include <charconv>
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

std::string text_option(const ConnectionConfig& c, const std::string& key) {
  auto it = c.options.find(key);
  return it == c.options.end() ? std::string() : it->second;
}

Result<void> required_options(const ConnectionConfig& c,
                              std::initializer_list<RequiredOption> options) {
  for (const auto& o : options) {
    *o.value = text_option(c, o.key);
    if (o.value->empty())
      return fail(ErrorKind::InvalidArgument, c.where + ": connection '" + c.name + "': option " +
                                                  o.key + " is required: " + o.hint);
  }
  return {};
}

Result<double> number_option(const ConnectionConfig& c, const std::string& key, double lo,
                             double hi) {
  const auto& text = c.options.at(key);
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) {
    char range[64];
    std::snprintf(range, sizeof range, "%g..%g", lo, hi);
    return fail(ErrorKind::InvalidArgument, c.where + ": connection '" + c.name + "': option " +
                                                key + " = '" + text + "' must be a number in " +
                                                range);
  }
  return v;
}

Result<Millis> seconds_option(const ConnectionConfig& c, const std::string& key, double lo,
                              double hi, Millis fallback) {
  if (!c.options.contains(key)) return fallback;
  auto v = number_option(c, key, lo, hi);
  if (!v) return fail(v.error());
  return Millis(static_cast<std::int64_t>(*v * 1000));
}

}  // namespace sb
