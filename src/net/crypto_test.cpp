#include "net/crypto.hpp"

#include <gtest/gtest.h>

using namespace sb::crypto;

TEST(Crypto, Base64RoundTripsAndRejectsWhatIsNotBase64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYg==").value_or("?"), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE=").value_or("?"), "fooba");
  EXPECT_FALSE(base64_decode("Zm9vY"));      // length
  EXPECT_FALSE(base64_decode("Zm9v YmFy"));  // whitespace
  EXPECT_FALSE(base64_decode("Zm=vYmFy"));   // padding in the middle
  EXPECT_FALSE(base64_decode("Zm9-YmFy"));   // URL alphabet
  EXPECT_FALSE(base64_decode("Zh=="));       // bits under the padding
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  EXPECT_EQ(base64_decode(base64_encode(all)).value_or(""), all);
}

TEST(Crypto, Sha256AndHmacMatchTheirStandardVectors) {
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, GcmRoundTripsWithASixteenByteIv) {
  std::string key(32, 'k'), iv(16, 'i');
  auto sealed = aes256gcm_encrypt(key, iv, "hello");
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->ciphertext.size(), 5u);
  auto open = aes256gcm_decrypt(key, iv, sealed->ciphertext, sealed->tag);
  ASSERT_TRUE(open);
  EXPECT_EQ(*open, "hello");
  EXPECT_FALSE(aes256gcm_decrypt(key, std::string(12, 'i'), sealed->ciphertext, sealed->tag));
  EXPECT_FALSE(aes256gcm_encrypt("short", iv, "x"));
}
