#include "engine/fleet.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <fstream>
#include <sstream>

#include "net/crypto.hpp"

namespace sb::engine {

namespace json = boost::json;

namespace {

constexpr std::string_view kVersion = "v1:";  // sealed text: "v1:" base64(nonce | ct | tag)

}  // namespace

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

Result<std::string> parse_fleet_key(std::string_view text, const std::string& where) {
  auto t = trimmed(text);
  if (t.size() == 64 && std::all_of(t.begin(), t.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
      })) {
    std::string key;
    for (std::size_t i = 0; i < 64; i += 2)
      key += static_cast<char>(std::stoi(t.substr(i, 2), nullptr, 16));
    return key;
  }
  if (auto b = crypto::base64_decode(t); b && b->size() == 32) return *b;
  return fail(ErrorKind::InvalidArgument,
              where +
                  ": the fleet key must be 32 bytes, written as 64 hex digits or in base64 "
                  "(make one with: openssl rand -hex 32)");
}

Result<std::string> load_fleet_key(const FleetConfig& fleet) {
  if (!fleet.key_env.empty()) {
    const char* v = std::getenv(fleet.key_env.c_str());
    if (!v || !*v)
      return fail(ErrorKind::InvalidArgument,
                  "fleet.key_env: the environment variable " + fleet.key_env + " is not set");
    return parse_fleet_key(v, "the environment variable " + fleet.key_env);
  }
  std::ifstream in(fleet.key_file, std::ios::binary);
  if (!in)
    return fail(ErrorKind::InvalidArgument, "fleet.key_file: cannot read '" + fleet.key_file + "'");
  std::stringstream s;
  s << in.rdbuf();
  auto text = s.str();
  if (text.size() == 32) return text;  // the raw bytes
  return parse_fleet_key(text, "'" + fleet.key_file + "'");
}

Result<std::string> seal_connection(const ConnectionConfig& c, std::string_view key) {
  json::object options;
  for (const auto& [k, v] : c.options) options[k] = v;
  json::object o{{"name", c.name},
                 {"vendor", c.vendor},
                 {"site", c.site},
                 {"host", c.host},
                 {"port", c.port},
                 {"tls", c.tls},
                 {"poll_interval_ms", c.poll_interval.count()},
                 {"timeout_ms", c.timeout.count()},
                 {"options", std::move(options)}};
  auto nonce = crypto::random_bytes(12);
  auto sealed = crypto::aes256gcm_encrypt(key, nonce, json::serialize(o));
  if (!sealed) return fail(sealed.error());
  return std::string(kVersion) + crypto::base64_encode(nonce + sealed->ciphertext + sealed->tag);
}

Result<ConnectionConfig> open_connection(const store::FleetConnection& row, std::string_view key) {
  auto broken = [&](const std::string& why) {
    return fail(ErrorKind::Auth, "connection '" + row.name + "' in the database: " + why);
  };
  if (!std::string_view(row.sealed).starts_with(kVersion))
    return broken("its settings are not sealed the way this sunbridge seals them");
  auto bytes = crypto::base64_decode(std::string_view(row.sealed).substr(kVersion.size()));
  if (!bytes || bytes->size() < 12 + 16) return broken("its sealed settings are cut short");
  auto text =
      crypto::aes256gcm_decrypt(key, bytes->substr(0, 12), bytes->substr(12, bytes->size() - 28),
                                bytes->substr(bytes->size() - 16));
  if (!text)
    return broken(
        "its settings do not open with the fleet key (another key sealed them, or the row was "
        "changed)");
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) return broken("its settings are not the JSON this sunbridge writes");
  try {
    const auto& o = v.as_object();
    ConnectionConfig c;
    c.name = json::value_to<std::string>(o.at("name"));
    if (c.name != row.name) return broken("its settings were sealed for '" + c.name + "'");
    c.vendor = json::value_to<std::string>(o.at("vendor"));
    c.site = json::value_to<std::string>(o.at("site"));
    c.host = json::value_to<std::string>(o.at("host"));
    c.port = static_cast<int>(o.at("port").to_number<std::int64_t>());
    c.tls = o.at("tls").as_bool();
    c.poll_interval = std::chrono::milliseconds(o.at("poll_interval_ms").to_number<std::int64_t>());
    c.timeout = std::chrono::milliseconds(o.at("timeout_ms").to_number<std::int64_t>());
    for (const auto& [k, val] : o.at("options").as_object())
      c.options[std::string(k)] = json::value_to<std::string>(val);
    c.where = "the fleet's connection '" + c.name + "'";
    c.account = row.account;
    return c;
  } catch (const std::exception& e) {
    return broken(std::string("its settings lack a field: ") + e.what());
  }
}

}  // namespace sb::engine
