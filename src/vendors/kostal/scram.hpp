// The KOSTAL login arithmetic (protocols.md §1.2): a SCRAM-SHA-256 variant whose AuthMessage
// repeats the server nonce, followed by an AES-256-GCM encrypted token that turns into a
// session. Both sides live here so that the client and the simulator cannot drift apart;
// the public test vector of protocols.md §1.3 checks each side on its own.
#pragma once

#include <optional>
#include <string>

#include "core/result.hpp"

namespace sb::kostal {

/// "n=U,r=CN,r=NONCE,s=SALT,i=ROUNDS,c=biws,r=NONCE" (strings exactly as exchanged).
std::string auth_message(const std::string& user, const std::string& client_nonce_b64,
                         const std::string& nonce_b64, const std::string& salt_b64, int rounds);

/// Everything the client derives from the password and the server's first answer.
struct ClientKeys {
  std::string salted_password, client_key, stored_key, server_key;  ///< raw bytes
  std::string auth_message;
  std::string proof;             ///< raw ClientProof (32 bytes); sent Base64
  std::string server_signature;  ///< what the server must send back (raw)
};

/// Fails with InvalidArgument when the salt is not Base64 or the rounds are out of range.
Result<ClientKeys> derive_client_keys(const std::string& user, const std::string& password,
                                      const std::string& client_nonce_b64,
                                      const std::string& nonce_b64, const std::string& salt_b64,
                                      int rounds);

/// HMAC(StoredKey, "Session Key" || AuthMessage || ClientKey): the AES-256 key of the session.
std::string protocol_key(const std::string& stored_key, const std::string& auth_message,
                         const std::string& client_key);

/// What a device keeps per account: never the password itself.
struct Credential {
  std::string salt;  ///< raw
  int rounds = 29000;
  std::string stored_key, server_key;
};
Credential make_credential(const std::string& password, const std::string& salt, int rounds);

/// Server side of auth/finish: the ClientKey recovered from the proof when the proof is right.
std::optional<std::string> verify_proof(const Credential& credential,
                                        const std::string& auth_message, const std::string& proof);
/// The server's signature for auth/finish (raw bytes).
std::string server_signature(const Credential& credential, const std::string& auth_message);

/// Rounds a client accepts (the Lua client's bounds; real devices use 29000).
inline constexpr int kMinRounds = 10;
inline constexpr int kMaxRounds = 1'000'000;

}  // namespace sb::kostal
