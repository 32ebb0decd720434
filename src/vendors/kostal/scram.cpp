#include "vendors/kostal/scram.hpp"

#include "net/crypto.hpp"

namespace sb::kostal {

std::string auth_message(const std::string& user, const std::string& client_nonce_b64,
                         const std::string& nonce_b64, const std::string& salt_b64, int rounds) {
  return "n=" + user + ",r=" + client_nonce_b64 + ",r=" + nonce_b64 + ",s=" + salt_b64 +
         ",i=" + std::to_string(rounds) + ",c=biws,r=" + nonce_b64;
}

Result<ClientKeys> derive_client_keys(const std::string& user, const std::string& password,
                                      const std::string& client_nonce_b64,
                                      const std::string& nonce_b64, const std::string& salt_b64,
                                      int rounds) {
  auto salt = crypto::base64_decode(salt_b64);
  if (!salt || salt->empty())
    return fail(ErrorKind::Protocol, "auth/start: salt '" + salt_b64 + "' is not Base64");
  if (rounds < kMinRounds || rounds > kMaxRounds)
    return fail(ErrorKind::Protocol, "auth/start: " + std::to_string(rounds) +
                                         " PBKDF2 rounds is outside " + std::to_string(kMinRounds) +
                                         ".." + std::to_string(kMaxRounds));
  ClientKeys k;
  k.salted_password = crypto::pbkdf2_sha256(password, *salt, rounds);
  k.client_key = crypto::hmac_sha256(k.salted_password, "Client Key");
  k.stored_key = crypto::sha256(k.client_key);
  k.server_key = crypto::hmac_sha256(k.salted_password, "Server Key");
  k.auth_message = auth_message(user, client_nonce_b64, nonce_b64, salt_b64, rounds);
  k.proof = crypto::xor_bytes(k.client_key, crypto::hmac_sha256(k.stored_key, k.auth_message));
  k.server_signature = crypto::hmac_sha256(k.server_key, k.auth_message);
  return k;
}

std::string protocol_key(const std::string& stored_key, const std::string& auth_message,
                         const std::string& client_key) {
  return crypto::hmac_sha256(stored_key, "Session Key" + auth_message + client_key);
}

Credential make_credential(const std::string& password, const std::string& salt, int rounds) {
  auto salted = crypto::pbkdf2_sha256(password, salt, rounds);
  auto client_key = crypto::hmac_sha256(salted, "Client Key");
  return {salt, rounds, crypto::sha256(client_key), crypto::hmac_sha256(salted, "Server Key")};
}

std::optional<std::string> verify_proof(const Credential& c, const std::string& auth_message,
                                        const std::string& proof) {
  if (proof.size() != 32) return std::nullopt;
  auto client_key = crypto::xor_bytes(proof, crypto::hmac_sha256(c.stored_key, auth_message));
  if (!crypto::equal_constant_time(crypto::sha256(client_key), c.stored_key)) return std::nullopt;
  return client_key;
}

std::string server_signature(const Credential& c, const std::string& auth_message) {
  return crypto::hmac_sha256(c.server_key, auth_message);
}

}  // namespace sb::kostal
