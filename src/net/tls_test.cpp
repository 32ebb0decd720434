// The client's TLS: certificate and host-name verification on by default, an extra CA file,
// and verification off only when asked. A self-signed certificate is made for each run.
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "net/http_client.hpp"
#include "net/test_io.hpp"

using namespace sb;
using namespace sb::net;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// Writes key.pem and cert.pem for "localhost" (self-signed, usable as its own CA).
bool make_certificate(const fs::path& dir) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  bool ok = X509_sign(x, key, EVP_sha256()) > 0;
  FILE* k = std::fopen((dir / "key.pem").c_str(), "w");
  FILE* c = std::fopen((dir / "cert.pem").c_str(), "w");
  ok = ok && k && c && PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) &&
       PEM_write_X509(c, x);
  if (k) std::fclose(k);
  if (c) std::fclose(c);
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

// A TLS server on 127.0.0.1 that answers every request "200 secure" until stopped.
class TlsServer {
 public:
  explicit TlsServer(const fs::path& dir) : ctx_(asio::ssl::context::tls_server), acc_(io_) {
    ctx_.use_certificate_chain_file((dir / "cert.pem").string());
    ctx_.use_private_key_file((dir / "key.pem").string(), asio::ssl::context::pem);
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acc_.open(ep.protocol());
    acc_.bind(ep);
    acc_.listen();
    port_ = acc_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsServer() {
    stop_ = true;
    boost::system::error_code ec;
    asio::ip::tcp::socket poke(io_);
    poke.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);  // wake accept()
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  void serve() {
    while (!stop_) {
      boost::system::error_code ec;
      asio::ssl::stream<asio::ip::tcp::socket> s(io_, ctx_);
      acc_.accept(s.lowest_layer(), ec);
      if (ec || stop_) continue;
      s.handshake(asio::ssl::stream_base::server, ec);
      if (ec) continue;  // the client refused our certificate
      boost::beast::flat_buffer buf;
      boost::beast::http::request<boost::beast::http::string_body> req;
      boost::beast::http::read(s, buf, req, ec);
      if (ec) continue;
      boost::beast::http::response<boost::beast::http::string_body> res{
          boost::beast::http::status::ok, 11};
      res.body() = "secure";
      res.keep_alive(false);
      res.prepare_payload();
      boost::beast::http::write(s, res, ec);
      s.shutdown(ec);
    }
  }
  asio::io_context io_;
  asio::ssl::context ctx_;
  asio::ip::tcp::acceptor acc_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Tls : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / ("sunbridge-tls-" + std::to_string(getpid()));
  void SetUp() override {
    fs::create_directories(dir);
    ASSERT_TRUE(make_certificate(dir));
  }
  void TearDown() override { fs::remove_all(dir); }
  Result<HttpResponse> get(HttpClientOptions o, std::string host, std::uint16_t port) {
    TestIo io(1);
    HttpClient client(io.executor(), o);
    HttpRequest r{"GET", "/"};
    return io.run(client.request({std::move(host), port, true}, r));
  }
};

}  // namespace

TEST_F(Tls, UnknownCertificateIsRefusedByDefault) {
  TlsServer server(dir);
  auto r = get({}, "localhost", server.port());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  EXPECT_NE(r.error().message.find("TLS handshake https://localhost:"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos)
      << r.error().message;
}

TEST_F(Tls, TrustedCaFileIsAccepted) {
  TlsServer server(dir);
  HttpClientOptions o;
  o.ca_file = (dir / "cert.pem").string();
  auto r = get(o, "localhost", server.port());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "secure");
}

TEST_F(Tls, HostNameMustMatchTheCertificate) {
  TlsServer server(dir);
  HttpClientOptions o;
  o.ca_file = (dir / "cert.pem").string();
  auto r = get(o, "127.0.0.1", server.port());  // the certificate names localhost only
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Transport);
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos)
      << r.error().message;
}

TEST_F(Tls, VerificationOffOnlyWhenAsked) {
  TlsServer server(dir);
  HttpClientOptions o;
  o.verify_tls = false;
  auto r = get(o, "127.0.0.1", server.port());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "secure");
}
