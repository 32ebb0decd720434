// Small, exact cryptographic building blocks over OpenSSL: Base64 (RFC 4648, padded, strict),
// MD5 (for vendor signatures only), SHA-256, HMAC-SHA256, PBKDF2-HMAC-SHA256, AES-256-GCM with any
// IV length, random bytes. Bytes are std::string (binary-safe) so that they travel through JSON
// helpers unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sb::crypto {

std::string base64_encode(std::string_view bytes);
/// Strict and canonical: standard alphabet, `=` padding, zero bits under the padding, no
/// whitespace. nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text);
std::string hex(std::string_view bytes);

/// MD5: not for security; FoxESS signs its requests with it.
std::string md5(std::string_view data);
std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int rounds,
                          std::size_t length = 32);

/// Cryptographically random bytes (OpenSSL RAND_bytes).
std::string random_bytes(std::size_t n);
/// For the fuzz targets and their corpus recorder only (fuzz/): from now on random_bytes gives
/// a fixed stream starting at `seed`, so a recorded session (a KOSTAL login's client nonce)
/// replays byte for byte. Nothing in the gateway calls it.
void use_fixed_random_for_fuzzing(std::uint64_t seed);

struct GcmSealed {
  std::string ciphertext;
  std::string tag;  ///< 16 bytes
};
/// AES-256-GCM, no additional data; the IV length is taken from `iv` (KOSTAL uses 16 bytes).
Result<GcmSealed> aes256gcm_encrypt(std::string_view key, std::string_view iv,
                                    std::string_view plaintext);
/// Fails (ErrorKind::Auth) when the tag does not authenticate the ciphertext.
Result<std::string> aes256gcm_decrypt(std::string_view key, std::string_view iv,
                                      std::string_view ciphertext, std::string_view tag);

/// XOR of two equal-length byte strings.
std::string xor_bytes(std::string_view a, std::string_view b);
/// Compares without an early exit (for proofs and signatures).
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace sb::crypto
