#include "vendors/kostal/simulator.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "net/crypto.hpp"
#include "vendors/kostal/simulator_detail.hpp"

namespace sb::kostal {

using namespace detail;  // json, std::chrono and the reply helpers

// --- auth ----------------------------------------------------------------------------------

Simulator::Json Simulator::auth_start(net::ServerRequest& req) {
  auto body = net::parse_json_object(req.body, "payload");
  if (!body) return invalid_payload("payload", "is not a JSON object");
  auto user = net::get_string(*body, "username", "payload");
  auto nonce = net::get_string(*body, "nonce", "payload");
  if (!user || (*user != "user" && *user != "master")) return message(400, "Invalid user");
  if (!nonce || !crypto::base64_decode(*nonce) || nonce->empty())
    return invalid_payload("nonce", "must be the Base64 of a random nonce");
  std::lock_guard lock(mutex_);
  auto& account = *user == "user" ? owner_ : master_;
  auto now = clock_.now();
  if (account.locked_until && now < *account.locked_until) return message(403, "User is locked");
  Txn t;
  t.user = *user;
  t.client_nonce = *nonce;
  // r = client nonce + server nonce (RFC 5802); canonical Base64 when the client's is 16 chars.
  t.nonce = *nonce + crypto::base64_encode(crypto::random_bytes(12));
  if (!crypto::base64_decode(t.nonce)) t.nonce = crypto::base64_encode(crypto::random_bytes(24));
  t.salt_b64 = crypto::base64_encode(account.credential.salt);
  t.rounds = account.credential.rounds;
  t.created = now;
  auto id = random_hex(32);
  // Forget transactions nobody finished within a minute.
  std::erase_if(txns_, [&](const auto& kv) { return now - kv.second.created > minutes(1); });
  txns_[id] = t;
  return reply(
      200,
      json::object{
          {"nonce", t.nonce}, {"transactionId", id}, {"salt", t.salt_b64}, {"rounds", t.rounds}});
}

Simulator::Json Simulator::auth_finish(net::ServerRequest& req) {
  auto body = net::parse_json_object(req.body, "payload");
  if (!body) return invalid_payload("payload", "is not a JSON object");
  auto id = net::get_string(*body, "transactionId", "payload");
  auto proof_b64 = net::get_string(*body, "proof", "payload");
  if (!id || !proof_b64) return invalid_payload("proof", "transactionId and proof are required");
  std::lock_guard lock(mutex_);
  auto it = txns_.find(*id);
  if (it == txns_.end() || it->second.finished) return message(400, "Transaction not found");
  auto& t = it->second;
  auto& account = t.user == "user" ? owner_ : master_;
  auto msg = auth_message(t.user, t.client_nonce, t.nonce, t.salt_b64, t.rounds);
  auto proof = crypto::base64_decode(*proof_b64);
  auto client_key =
      proof ? verify_proof(account.credential, msg, *proof) : std::optional<std::string>{};
  if (!client_key) {
    txns_.erase(it);
    if (++account.failures >= options_.lock_after) {
      account.locked_until = clock_.now() + options_.lock_for;
      account.failures = 0;
    }
    return message(400, "authentication failed");
  }
  account.failures = 0;
  t.finished = true;
  t.client_key = *client_key;
  t.token = random_hex(32);
  return reply(
      200, json::object{
               {"token", t.token},
               {"signature", crypto::base64_encode(server_signature(account.credential, msg))}});
}

Simulator::Json Simulator::auth_create_session(net::ServerRequest& req) {
  auto body = net::parse_json_object(req.body, "payload");
  if (!body) return invalid_payload("payload", "is not a JSON object");
  auto id = net::get_string(*body, "transactionId", "payload");
  auto iv = net::get_string(*body, "iv", "payload");
  auto tag = net::get_string(*body, "tag", "payload");
  auto payload = net::get_string(*body, "payload", "payload");
  if (!id || !iv || !tag || !payload)
    return invalid_payload("payload", "transactionId, iv, tag and payload are required");
  std::lock_guard lock(mutex_);
  auto it = txns_.find(*id);
  if (it == txns_.end() || !it->second.finished) return message(400, "Transaction not found");
  Txn t = it->second;
  txns_.erase(it);
  auto& account = t.user == "user" ? owner_ : master_;
  auto msg = auth_message(t.user, t.client_nonce, t.nonce, t.salt_b64, t.rounds);
  auto key = protocol_key(account.credential.stored_key, msg, t.client_key);
  auto iv_raw = crypto::base64_decode(*iv), tag_raw = crypto::base64_decode(*tag),
       ct = crypto::base64_decode(*payload);
  if (!iv_raw || !tag_raw || !ct) return message(400, "authentication failed");
  auto plain = crypto::aes256gcm_decrypt(key, *iv_raw, *ct, *tag_raw);
  std::string expected = t.token;
  if (t.user == "master") expected += ":" + options_.service_code;
  if (!plain || !crypto::equal_constant_time(*plain, expected))
    return message(400, "authentication failed");
  auto session = random_hex(32);
  sessions_[session] = {t.user == "user" ? Role::User : Role::Installer, clock_.now()};
  return reply(200, json::object{{"sessionId", session}});
}

Simulator::Json Simulator::auth_me(net::ServerRequest& req) {
  std::lock_guard lock(mutex_);
  auto role = role_of(req);
  bool locked = owner_.locked_until && clock_.now() < *owner_.locked_until;
  json::array permissions;
  if (role == Role::User) permissions = {"read", "write_user"};
  if (role == Role::Installer) permissions = {"read", "write_user", "write_installer"};
  return reply(200, json::object{{"role", role == Role::User        ? "USER"
                                          : role == Role::Installer ? "INSTALLER"
                                                                    : "NONE"},
                                 {"anonymous", role == Role::None},
                                 {"locked", locked},
                                 {"permissions", permissions},
                                 {"active", role != Role::None},
                                 {"authenticated", role != Role::None}});
}

Simulator::Json Simulator::auth_logout(net::ServerRequest& req) {
  std::lock_guard lock(mutex_);
  if (role_of(req) == Role::None) return message(401, kUnauthorized);
  auto h = req.header("authorization");
  sessions_.erase(std::string(h.substr(8)));
  return reply(200, json::object{});
}

Simulator::Json Simulator::auth_set_password(net::ServerRequest& req) {
  std::lock_guard lock(mutex_);
  auto role = role_of(req);
  if (role == Role::None) return message(401, kUnauthorized);
  auto body = net::parse_json_object(req.body, "payload");
  if (!body) return invalid_payload("payload", "is not a JSON object");
  auto pw = net::get_string(*body, "password", "payload");
  if (!pw) return invalid_payload("password", "is required");
  if (pw->size() < 8 || pw->size() > 64)
    return invalid_payload("password", "must have 8 to 64 characters");
  options_.owner_password = *pw;
  owner_.credential = make_credential(*pw, crypto::random_bytes(12), options_.rounds);
  owner_.failures = 0;
  owner_.locked_until.reset();
  // The owner's other sessions end with the old password.
  std::erase_if(sessions_, [&](const auto& kv) {
    return kv.second.role == Role::User && kv.first != req.header("authorization").substr(8);
  });
  return reply(200, json::object{});
}

}  // namespace sb::kostal
