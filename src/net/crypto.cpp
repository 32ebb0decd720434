#include "net/crypto.hpp"

#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

namespace sb::crypto {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    unsigned v =
        (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8) | std::uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (std::size_t rest = in.size() - i; rest > 0) {
    unsigned v = std::uint8_t(in[i]) << 16;
    if (rest == 2) v |= std::uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    bool last = i + 4 == in.size();
    int pad = 0;
    if (last && in[i + 3] == '=') pad = in[i + 2] == '=' ? 2 : 1;
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      int d = k >= 4 - pad ? 0 : decode_char(in[i + k]);
      if (d < 0) return std::nullopt;
      v = (v << 6) | unsigned(d);
    }
    // Canonical only: the bits under the padding must be zero (decode->encode round-trips).
    if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)) return std::nullopt;
    out += char((v >> 16) & 0xff);
    if (pad < 2) out += char((v >> 8) & 0xff);
    if (pad < 1) out += char(v & 0xff);
  }
  return out;
}

std::string hex(std::string_view in) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() * 2);
  for (unsigned char c : in) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string md5(std::string_view data) {
  std::string out(16, '\0');
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
             EVP_md5(), nullptr);
  out.resize(len);
  return out;
}

std::string sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(bytes(data), data.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), bytes(data), data.size(),
       reinterpret_cast<unsigned char*>(out.data()), &len);
  out.resize(len);
  return out;
}

std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int rounds,
                          std::size_t length) {
  std::string out(length, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), int(password.size()), bytes(salt), int(salt.size()),
                        rounds, EVP_sha256(), int(length),
                        reinterpret_cast<unsigned char*>(out.data())) != 1)
    throw std::runtime_error("PBKDF2 failed");
  return out;
}

namespace {
std::atomic<bool> fixed_random{false};
std::atomic<std::uint64_t> fixed_state{0};
}  // namespace

void use_fixed_random_for_fuzzing(std::uint64_t seed) {
  fixed_state = seed;
  fixed_random = true;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (fixed_random.load(std::memory_order_relaxed)) {
    for (auto& c : out) {  // splitmix64, a byte per step: reproducible, not random
      std::uint64_t z = (fixed_state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      c = static_cast<char>(z ^ (z >> 31));
    }
    return out;
  }
  // The kernel's generator (which OpenSSL's own seeds from), not RAND_bytes: a gateway needs
  // random ids at its start, and starting OpenSSL's generator for them costs 2.3 MB of memory
  // that a home of local devices over plain HTTP never needs otherwise (docs/scale.md).
  for (std::size_t got = 0; got < n;) {
    auto r = ::getrandom(out.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    got += static_cast<std::size_t>(r);
  }
  return out;
}

Result<GcmSealed> aes256gcm_encrypt(std::string_view key, std::string_view iv,
                                    std::string_view plaintext) {
  if (key.size() != 32) return fail(ErrorKind::InvalidArgument, "AES-256 needs a 32-byte key");
  if (iv.empty()) return fail(ErrorKind::InvalidArgument, "AES-GCM needs an IV");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  GcmSealed out;
  out.ciphertext.resize(plaintext.size());
  out.tag.resize(16);
  int len = 0;
  // The IV length must be set before key and IV (a 16-byte IV goes through GHASH).
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int(iv.size()), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(iv)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.ciphertext.data()), &len,
                        bytes(plaintext), int(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), nullptr, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.tag.data()) != 1)
    return fail(ErrorKind::Internal, "AES-256-GCM encryption failed");
  return out;
}

Result<std::string> aes256gcm_decrypt(std::string_view key, std::string_view iv,
                                      std::string_view ciphertext, std::string_view tag) {
  if (key.size() != 32) return fail(ErrorKind::InvalidArgument, "AES-256 needs a 32-byte key");
  if (iv.empty() || tag.size() != 16)
    return fail(ErrorKind::InvalidArgument, "AES-GCM needs an IV and a 16-byte tag");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(ciphertext.size(), '\0');
  std::string tag_copy(tag);
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int(iv.size()), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(iv)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        bytes(ciphertext), int(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag_copy.data()) != 1)
    return fail(ErrorKind::Internal, "AES-256-GCM decryption failed");
  if (EVP_DecryptFinal_ex(ctx.get(), nullptr, &len) != 1)
    return fail(ErrorKind::Auth, "AES-256-GCM tag does not match");
  return out;
}

std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) out[i] = char(a[i] ^ b[i]);
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sb::crypto
