#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/socket.h>

#include <unistd.h>

#include <atomic>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/test_io.hpp"

using namespace sb;
using namespace sb::net;
namespace asio = boost::asio;

namespace {

struct Fixture : ::testing::Test {
  TestIo io;
  std::shared_ptr<Router> router = std::make_shared<Router>();
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<HttpClient> client;

  void start(HttpServerOptions so = {}, HttpClientOptions co = {}) {
    server = std::make_unique<HttpServer>(io.executor(), router, so);
    ASSERT_TRUE(server->listen("127.0.0.1", 0));
    client = std::make_unique<HttpClient>(io.executor(), co);
  }
  Endpoint ep() const { return {"127.0.0.1", server->port(), false}; }
  Result<HttpResponse> call(std::string method, std::string target, std::string body = {}) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    return io.run(client->request(ep(), r));
  }
};

}  // namespace

TEST_F(Fixture, RoutesWithPathParametersAndDecodedQuery) {
  router->get("/api/{version}/items/{id}", [](ServerRequest& r) -> asio::awaitable<ServerResponse> {
    co_return ServerResponse::json(200, "{\"v\":\"" + r.params["version"] + "\",\"id\":\"" +
                                            r.params["id"] + "\",\"q\":\"" + r.query["q"] + "\"}");
  });
  start();
  auto res = call("GET", "/api/v1/items/42?q=a%20b");
  ASSERT_TRUE(res) << res.error().describe();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"v":"v1","id":"42","q":"a b"})");
  EXPECT_EQ(res->header("content-type"), "application/json");
}

TEST_F(Fixture, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  router->get("/x", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    co_return ServerResponse::json(200, "{}");
  });
  start();
  auto nf = call("GET", "/nope");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_NE(nf->body.find("no route for /nope"), std::string::npos);
  auto na = call("DELETE", "/x");
  ASSERT_TRUE(na);
  EXPECT_EQ(na->status, 405);
  EXPECT_EQ(na->header("Allow"), "GET");
}

TEST_F(Fixture, RestPatternCapturesTheRemainingPath) {
  router->get("/static/{path*}", [](ServerRequest& r) -> asio::awaitable<ServerResponse> {
    co_return ServerResponse::text(200, r.params["path"]);
  });
  start();
  auto res = call("GET", "/static/css/site.css");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "css/site.css");
}

TEST_F(Fixture, KeepAliveReusesOneConnection) {
  router->get("/ping", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    co_return ServerResponse::text(200, "pong");
  });
  start();
  for (int i = 0; i < 5; ++i) {
    auto res = call("GET", "/ping");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "pong");
  }
  EXPECT_EQ(client->connections_opened(), 1u);
  EXPECT_EQ(client->idle_connections(), 1u);
}

// A request returns to the caller's executor. The exchange runs on its connection's strand;
// a gateway connection's loop that went on there after a poll set its timer off its own strand,
// racing with stop() cancelling it (ThreadSanitizer saw it).
TEST_F(Fixture, TheCallerGoesOnOnItsOwnStrandAfterARequest) {
  router->get("/ping", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    co_return ServerResponse::text(200, "pong");
  });
  start();
  auto caller = asio::make_strand(io.executor());
  HttpRequest r;
  r.method = "GET";
  r.target = "/ping";
  // A fresh connection, then a kept-alive one: both ways back.
  for (int i = 0; i < 2; ++i) {
    auto on_caller = asio::co_spawn(
        caller,
        [&]() -> asio::awaitable<std::pair<bool, bool>> {
          bool before = caller.running_in_this_thread();
          auto res = co_await client->request(ep(), r);
          EXPECT_TRUE(res);
          co_return std::pair{before, caller.running_in_this_thread()};
        },
        asio::use_future);
    auto [before, after] = on_caller.get();
    EXPECT_TRUE(before);
    EXPECT_TRUE(after) << "request " << i << " left its caller on another strand";
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

// Past the client's cap of idle connections across hosts, the least recently used is closed:
// three devices, a cap of two, so the first device's connection goes when the third's is put
// back, and its next request opens a new one while the others are reused.
TEST_F(Fixture, IdleConnectionsPastTheClientsCapCloseTheLeastRecentlyUsed) {
  router->get("/ping", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    co_return ServerResponse::text(200, "pong");
  });
  HttpClientOptions co;
  co.max_idle_total = 2;
  start({}, co);
  std::vector<std::unique_ptr<HttpServer>> more;
  std::vector<Endpoint> devices{ep()};
  for (int i = 0; i < 2; ++i) {
    more.push_back(std::make_unique<HttpServer>(io.executor(), router, HttpServerOptions{}));
    ASSERT_TRUE(more.back()->listen("127.0.0.1", 0));
    devices.push_back({"127.0.0.1", more.back()->port(), false});
  }
  auto get = [&](const Endpoint& e) {
    auto r = io.run(client->request(e, HttpRequest{"GET", "/ping", {}, {}}));
    return r && r->body == "pong";
  };
  for (const auto& e : devices) ASSERT_TRUE(get(e));
  EXPECT_EQ(client->connections_opened(), 3u);
  EXPECT_EQ(client->idle_connections(), 2u);
  EXPECT_EQ(client->idle_evicted(), 1u);
  ASSERT_TRUE(get(devices[2]));  // kept: reused
  ASSERT_TRUE(get(devices[1]));  // kept: reused
  EXPECT_EQ(client->connections_opened(), 3u);
  ASSERT_TRUE(get(devices[0]));  // closed: a new connection, and devices[2]'s goes now
  EXPECT_EQ(client->connections_opened(), 4u);
  EXPECT_EQ(client->idle_evicted(), 2u);
  ASSERT_TRUE(get(devices[1]));
  EXPECT_EQ(client->connections_opened(), 4u);
  ASSERT_TRUE(get(devices[2]));
  EXPECT_EQ(client->connections_opened(), 5u);
  for (auto& m : more) m->stop();
}

TEST_F(Fixture, ServerClosingAnIdleConnectionIsRetriedOnceTransparently) {
  router->get("/ping", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    co_return ServerResponse::text(200, "pong");
  });
  HttpServerOptions so;
  so.idle_timeout = std::chrono::milliseconds(50);
  start(so);
  ASSERT_TRUE(call("GET", "/ping"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // real socket idle timeout
  auto res = call("GET", "/ping");
  ASSERT_TRUE(res) << res.error().describe();
  EXPECT_EQ(res->body, "pong");
  EXPECT_EQ(client->connections_opened(), 2u);
}

// A server that answers one request per connection, keep-alive by default, then closes it: the
// next request on that connection finds the end of the stream before any response byte. That
// is a keep-alive connection timed out while idle (the FoxESS poll, a POST, failed 2 of 5 times
// at a 60 s interval): it is sent again on a fresh connection, POST included.
TEST_F(Fixture, APostOnAKeepAliveConnectionTheServerClosedIsSentAgainOnAFreshOne) {
  asio::ip::tcp::acceptor acc(io.io(), {asio::ip::make_address("127.0.0.1"), 0});
  auto port = acc.local_endpoint().port();
  std::atomic<int> served{0};
  std::thread raw([&] {
    for (int i = 0; i < 2; ++i) {
      auto s = acc.accept();
      std::string got;
      char buf[1024];
      boost::system::error_code ec;
      while (got.find("\r\n\r\n") == std::string::npos || got.find("{}") == std::string::npos) {
        auto n = s.read_some(asio::buffer(buf), ec);
        if (ec) break;
        got.append(buf, n);
      }
      asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npong")),
                  ec);
      ++served;
      s.close();
    }
  });
  client = std::make_unique<HttpClient>(io.executor());
  HttpRequest r{"POST", "/op/v0/device/real/query", {}, "{}"};
  auto first = io.run(client->request({"127.0.0.1", port, false}, r));
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_EQ(client->idle_connections(), 1u);  // kept: the server did not say close
  auto second = io.run(client->request({"127.0.0.1", port, false}, r));
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_EQ(second->body, "pong");
  EXPECT_EQ(client->connections_opened(), 2u);
  raw.join();
  EXPECT_EQ(served, 2);
}

// An idle connection is not reused past the server's Keep-Alive timeout (less a second, since
// its timer started at its own last byte), nor past max_idle_age.
TEST_F(Fixture, IdleConnectionsAreNotReusedPastTheServersKeepAliveHint) {
  router->get("/short", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    auto res = ServerResponse::text(200, "short");
    res.headers.emplace_back("Keep-Alive", "timeout=1, max=100");
    co_return res;
  });
  router->get("/long", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    auto res = ServerResponse::text(200, "long");
    res.headers.emplace_back("Keep-Alive", "timeout=15");
    co_return res;
  });
  start();
  ASSERT_TRUE(call("GET", "/short"));
  EXPECT_EQ(client->idle_connections(), 0u);  // 1 s less a second: not worth keeping
  ASSERT_TRUE(call("GET", "/long"));
  ASSERT_TRUE(call("GET", "/long"));
  EXPECT_EQ(client->connections_opened(), 2u);
  EXPECT_EQ(client->idle_connections(), 1u);

  HttpClientOptions none;
  none.max_idle_age = std::chrono::milliseconds(0);
  client = std::make_unique<HttpClient>(io.executor(), none);
  ASSERT_TRUE(call("GET", "/long"));
  ASSERT_TRUE(call("GET", "/long"));
  EXPECT_EQ(client->connections_opened(), 2u);
}

namespace {
// A blocking client socket with a read deadline: the test below may not open a file to resolve a
// name, so it uses no resolver and no client pool.
struct RawClient {
  asio::io_context io;
  asio::ip::tcp::socket s{io, asio::ip::tcp::v4()};  // its descriptor is taken here
  void connect(std::uint16_t port) {
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{15, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  std::string get(const std::string& path) {
    boost::system::error_code ec;
    asio::write(s, asio::buffer("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"), ec);
    std::string got;
    char buf[512];
    while (!ec && got.find("pong") == std::string::npos) {
      auto n = s.read_some(asio::buffer(buf), ec);
      got.append(buf, n);
    }
    return got;
  }
  bool closed_by_server() {
    char c;
    boost::system::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
};

// The lowest descriptor number the kernel would hand out next.
int next_free_descriptor() {
  int fd = ::dup(0);
  ::close(fd);
  return fd;
}
}  // namespace

// With descriptors used up (ulimit -n), the accept loop retried at once, spun a core at 96 %
// and answered no one. Now it waits a moment and closes the oldest idle keep-alive connection,
// so a new client is served.
TEST_F(Fixture, OutOfFileDescriptorsTheOldestIdleConnectionMakesRoom) {
  router->get("/ping", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    co_return ServerResponse::text(200, "pong");
  });
  start();
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawClient>());
    idle.back()->connect(server->port());
    ASSERT_NE(idle.back()->get("/ping").find("pong"), std::string::npos);
  }
  auto fresh = std::make_unique<RawClient>();  // its socket exists before the limit
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  // No descriptor is left: the server's accept of the new connection finds none.
  rlimit tight = before;
  tight.rlim_cur = rlim_t(next_free_descriptor());
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  fresh->connect(server->port());
  std::string answer = fresh->get("/ping");
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
  EXPECT_NE(answer.find("pong"), std::string::npos) << answer;
  EXPECT_TRUE(idle[0]->closed_by_server());  // the oldest idle one made room
}

TEST_F(Fixture, SlowServerTimesOut) {
  router->get("/slow", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(500));
    co_await t.async_wait(asio::use_awaitable);
    co_return ServerResponse::text(200, "late");
  });
  start();
  HttpRequest r;
  r.target = "/slow";
  r.timeout = std::chrono::milliseconds(50);
  auto res = io.run(client->request(ep(), r));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, ErrorKind::Timeout) << res.error().message;
}

TEST_F(Fixture, RefusedConnectionIsATransportError) {
  start();
  auto port = server->port();
  server->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  HttpRequest r;
  auto res = io.run(client->request({"127.0.0.1", port, false}, r));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, ErrorKind::Transport);
}

TEST_F(Fixture, DroppedConnectionIsATransportErrorAndMalformedResponseAProtocolError) {
  // A raw server: closes the first connection at once, answers garbage on the second.
  asio::ip::tcp::acceptor acc(io.io(), {asio::ip::make_address("127.0.0.1"), 0});
  auto port = acc.local_endpoint().port();
  std::thread raw([&] {
    auto s1 = acc.accept();
    s1.close();
    auto s2 = acc.accept();
    char buf[1024];
    boost::system::error_code ec;
    s2.read_some(asio::buffer(buf), ec);
    asio::write(s2, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n")), ec);
    s2.close();
  });
  client = std::make_unique<HttpClient>(io.executor());
  HttpRequest r;
  auto dropped = io.run(client->request({"127.0.0.1", port, false}, r));
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error().kind, ErrorKind::Transport);
  auto garbage = io.run(client->request({"127.0.0.1", port, false}, r));
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().kind, ErrorKind::Protocol);
  raw.join();
}

TEST_F(Fixture, GracefulStopLetsTheRequestInFlightFinish) {
  std::atomic<bool> arrived{false};
  router->get("/slow", [&arrived](ServerRequest&) -> asio::awaitable<ServerResponse> {
    arrived = true;
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(200));
    co_await t.async_wait(asio::use_awaitable);
    co_return ServerResponse::text(200, "done");
  });
  start();
  auto fut =
      asio::co_spawn(io.io(), client->request(ep(), HttpRequest{"GET", "/slow"}), asio::use_future);
  for (int i = 0; i < 1000 && !arrived; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(arrived);
  server->stop();
  auto res = fut.get();
  ASSERT_TRUE(res) << res.error().describe();
  EXPECT_EQ(res->body, "done");
  EXPECT_EQ(res->header("Connection"), "close");
  for (int i = 0; i < 100 && server->active_connections() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(server->active_connections(), 0u);
}

TEST_F(Fixture, OversizedRequestBodyIs413) {
  router->post("/in", [](ServerRequest&) -> asio::awaitable<ServerResponse> {
    co_return ServerResponse::json(200, "{}");
  });
  HttpServerOptions so;
  so.max_body_bytes = 16;
  start(so);
  auto res = call("POST", "/in", std::string(100, 'x'));
  ASSERT_TRUE(res) << res.error().describe();
  EXPECT_EQ(res->status, 413);
}
