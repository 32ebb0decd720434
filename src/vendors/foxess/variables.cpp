#include "vendors/foxess/variables.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "core/embedded.hpp"

extern const sb::EmbeddedFile sb_foxess_data[];
extern const std::size_t sb_foxess_data_count;

namespace sb::foxess {

namespace {

std::vector<Variable> load() {
  for (std::size_t i = 0; i < sb_foxess_data_count; ++i) {
    if (sb_foxess_data[i].path != "variables.json") continue;
    auto doc = boost::json::parse(sb_foxess_data[i].data).as_object();
    std::vector<Variable> out;
    for (const auto& item : doc.at("variables").as_array()) {
      const auto& o = item.as_object();
      Variable v;
      v.name = std::string(o.at("variable").as_string());
      v.unit = std::string(o.at("unit").as_string());
      // pv2Power's block lacks both lines in the seed (foxess.md §7): like its siblings.
      v.grid_tied = o.at("grid_tied").is_bool() ? o.at("grid_tied").as_bool() : true;
      v.energy_storage = o.at("energy_storage").is_bool() ? o.at("energy_storage").as_bool() : true;
      for (const auto& [lang, name] : o.at("names").as_object())
        v.names[std::string(lang)] = std::string(name.as_string());
      if (o.at("enum").is_object())
        for (const auto& [k, name] : o.at("enum").as_object())
          v.enums[std::string(k)] = std::string(name.as_string());
      out.push_back(std::move(v));
    }
    return out;
  }
  throw std::logic_error("variables.json is not embedded");
}

}  // namespace

const std::vector<Variable>& variables() {
  static const std::vector<Variable> all = load();
  return all;
}

const Variable* find_variable(const std::string& name) {
  static const std::map<std::string, const Variable*> index = [] {
    std::map<std::string, const Variable*> m;
    for (const auto& v : variables()) m[v.name] = &v;
    return m;
  }();
  auto it = index.find(name);
  return it == index.end() ? nullptr : it->second;
}

}  // namespace sb::foxess
