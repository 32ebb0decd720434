// The public test vector of protocols.md §1.3 (schopf16/fibaro-qa-plenticore, recomputed there),
// checked for the client side and the server side separately.
#include <gtest/gtest.h>

#include "net/crypto.hpp"
#include "vendors/kostal/scram.hpp"

using namespace sb;
using namespace sb::kostal;

namespace {

const std::string kClientNonce = "AQIDBAUGBwgJCgsM";
const std::string kNonce = "c2VydmVyLW5vbmNlLTEyMzQ1Ng==";
const std::string kSalt = "MDEyMzQ1Njc4OWFiY2RlZg==";
const std::string kIv = "ZGVmZ2hpamtsbW5vcHFycw==";
const std::string kToken = "session-token-42";

std::string b64d(const std::string& s) {
  auto d = crypto::base64_decode(s);
  EXPECT_TRUE(d) << s;
  return d.value_or("");
}

}  // namespace

TEST(KostalScram, ClientSideMatchesThePublicVector) {
  auto k = derive_client_keys("user", "correct horse", kClientNonce, kNonce, kSalt, 100);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->auth_message,
            "n=user,r=AQIDBAUGBwgJCgsM,r=c2VydmVyLW5vbmNlLTEyMzQ1Ng==,s=MDEyMzQ1Njc4OWFiY2RlZg==,"
            "i=100,c=biws,r=c2VydmVyLW5vbmNlLTEyMzQ1Ng==");
  EXPECT_EQ(crypto::hex(k->salted_password),
            "8c5bf7861b7bb918b1a8c74a763900487d2aa5a07b63aa0566173e2b1c9e8ad2");
  EXPECT_EQ(crypto::hex(k->client_key),
            "48c5b755c46c481140bce27c85fb85992d46178617f2141cef5daf04a24b6ad8");
  EXPECT_EQ(crypto::hex(k->stored_key),
            "4d406aea2f35bead0165e5999fc6d91932fd688990de5c7964e315a26459262e");
  EXPECT_EQ(crypto::hex(k->server_key),
            "03ebaaa3e1bbd46642eccdfbc6756bef7668a8ff6829be5168483d81402f9618");
  EXPECT_EQ(crypto::base64_encode(k->proof), "jhm+htiEcuFhtl9vx/hB2Uiyttaz11sEZXnmTfcc5Tk=");
  EXPECT_EQ(crypto::base64_encode(k->server_signature),
            "WTVBeJLnm0rM6uA06wAdECuAFrOz6vT5hKyOP0diQkg=");
  auto key = protocol_key(k->stored_key, k->auth_message, k->client_key);
  EXPECT_EQ(crypto::hex(key), "f1dee0e7584c6e6a7cddc4c93a17edb68634dbecaec50be3870af87f53e29334");
  auto sealed = crypto::aes256gcm_encrypt(key, b64d(kIv), kToken);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(crypto::base64_encode(sealed->ciphertext), "iAzwoLUvW+8K7bR35kvx9g==");
  EXPECT_EQ(crypto::base64_encode(sealed->tag), "aH3u10UW8wfjSyO8lHeBAg==");
}

TEST(KostalScram, MasterVariantMatchesTheExtendedVector) {
  auto k = derive_client_keys("master", "correct horse", kClientNonce, kNonce, kSalt, 100);
  ASSERT_TRUE(k);
  EXPECT_EQ(crypto::base64_encode(k->proof), "Qtqd2KiT1l9rof6FxoX2A5CQr4wwX1xCbtIJKdoGfDA=");
  EXPECT_EQ(crypto::base64_encode(k->server_signature),
            "HRii+bv/FyDFazAAIjuJ5q0WxPnpz3KJM5HB1xDMhaw=");
  auto key = protocol_key(k->stored_key, k->auth_message, k->client_key);
  EXPECT_EQ(crypto::hex(key), "7869100ce3474837d84511bdf26059c63cb2e1bfce5d8b90d5be62eb7d048555");
  auto sealed = crypto::aes256gcm_encrypt(key, b64d(kIv), kToken + ":12345");
  ASSERT_TRUE(sealed);
  EXPECT_EQ(crypto::base64_encode(sealed->ciphertext), "SJ8r2P6Em+jwaUdD218k1WZu1X9iRw==");
  EXPECT_EQ(crypto::base64_encode(sealed->tag), "/FhWFd65aUlgIcCkMfSU5w==");
}

TEST(KostalScram, ServerSideVerifiesTheVectorsProofAndDecryptsTheToken) {
  auto cred = make_credential("correct horse", b64d(kSalt), 100);
  EXPECT_EQ(crypto::hex(cred.stored_key),
            "4d406aea2f35bead0165e5999fc6d91932fd688990de5c7964e315a26459262e");
  auto msg = auth_message("user", kClientNonce, kNonce, kSalt, 100);
  auto client_key = verify_proof(cred, msg, b64d("jhm+htiEcuFhtl9vx/hB2Uiyttaz11sEZXnmTfcc5Tk="));
  ASSERT_TRUE(client_key);
  EXPECT_EQ(crypto::base64_encode(server_signature(cred, msg)),
            "WTVBeJLnm0rM6uA06wAdECuAFrOz6vT5hKyOP0diQkg=");
  auto key = protocol_key(cred.stored_key, msg, *client_key);
  auto token = crypto::aes256gcm_decrypt(key, b64d(kIv), b64d("iAzwoLUvW+8K7bR35kvx9g=="),
                                         b64d("aH3u10UW8wfjSyO8lHeBAg=="));
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(*token, kToken);
  // A wrong password's proof is refused, and a tampered tag does not decrypt.
  auto wrong = derive_client_keys("user", "wrong horse", kClientNonce, kNonce, kSalt, 100);
  ASSERT_TRUE(wrong);
  EXPECT_FALSE(verify_proof(cred, msg, wrong->proof));
  auto bad = crypto::aes256gcm_decrypt(key, b64d(kIv), b64d("iAzwoLUvW+8K7bR35kvx9g=="),
                                       b64d("aH3u10UW8wfjSyO8lHeBAw=="));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Auth);
}

TEST(KostalScram, BadSaltAndRoundsAreProtocolErrors) {
  auto k = derive_client_keys("user", "pw", kClientNonce, kNonce, "not base64!", 29000);
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("not Base64"), std::string::npos);
  auto r = derive_client_keys("user", "pw", kClientNonce, kNonce, kSalt, 5);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("outside"), std::string::npos);
}
