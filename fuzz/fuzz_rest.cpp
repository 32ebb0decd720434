// libFuzzer target: the REST API's request handling. The input is a raw HTTP request (the
// server's own parser), routed through the real router: paths, queries, JSON command bodies,
// the bearer token, on an in-memory store and a gateway with one site and one battery that
// takes every command. Every answer must be a status the API documents, with a JSON error body
// for each 4xx/5xx.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "core/clock.hpp"
#include "core/gateway_api.hpp"
#include "fuzz/harness.hpp"
#include "net/http_server.hpp"
#include "outputs/rest/rest_api.hpp"
#include "store/store.hpp"

namespace {

using namespace sb;

class FakeGateway final : public GatewayApi {
 public:
  explicit FakeGateway(const Clock& clock) : clock_(clock) {
    battery_ = {"bat:1", "home", "bat", "sonnen", "battery", "sonnen", "eco 10", "1", "1.14"};
    caps_.history = true;
    caps_.commands = {{CommandType::MinSoc, 0, 100, {}, 0},
                      {CommandType::BatteryPower, -4600, 4600, {}, 0},
                      {CommandType::ExportLimit, 0, 10'000, {}, 0},
                      {CommandType::BatteryStrategy, 0, 0, {"auto", "manual"}, 0},
                      {CommandType::StormGuard, 0, 1, {}, 0},
                      {CommandType::EvCharging, 0, 100, {}, 0},
                      {CommandType::Release, 0, 0, {}, 0},
                      {CommandType::TouSchedule, 0, 4600, {"charge", "discharge", "self_use"}, 4},
                      {CommandType::PeakShaving, 0, 10'000, {}, 0},
                      {CommandType::LoadControl, 0, 0, {"NC1"}, 0},
                      {CommandType::TimeControl, 0, 0, {}, 0}};
  }
  std::vector<Site> sites() const override {
    return {{"home", "Home", 52.5, 13.4, "Europe/Berlin"}};
  }
  std::vector<DeviceInfo> devices() const override { return {battery_}; }
  std::optional<DeviceInfo> device(const std::string& id) const override {
    if (id == battery_.id) return battery_;
    return std::nullopt;
  }
  std::optional<Capabilities> capabilities(const std::string& id) const override {
    if (id == battery_.id) return caps_;
    return std::nullopt;
  }
  std::vector<DeviceLive> live() const override {
    DeviceLive d{battery_, true, false, clock_.now(), {}};
    d.values.push_back({"battery.soc", clock_.now(), 55.5});
    d.values.push_back({"battery.power", clock_.now(), -1201.56});
    return {d};
  }
  std::vector<ConnectionHealth> health() const override {
    ConnectionHealth h;
    h.name = "bat";
    h.vendor = "sonnen";
    h.site = "home";
    h.state = "ok";
    h.last_success = clock_.now();
    return {h};
  }
  boost::asio::awaitable<Result<DeviceSettings>> settings(std::string id, bool) override {
    if (id != battery_.id) co_return fail(ErrorKind::NotFound, "no device " + id);
    DeviceSettings s{id, {}, clock_.now()};
    s.settings.push_back({CommandType::MinSoc, 20.0, ""});
    co_return s;
  }
  boost::asio::awaitable<Result<CommandRecord>> execute(Command c) override {
    if (c.device != battery_.id) co_return fail(ErrorKind::NotFound, "no device " + c.device);
    CommandRecord r;
    r.id = ++commands_;
    r.requested_at = clock_.now();
    r.device = c.device;
    r.type = c.type;
    r.value = c.value;
    r.argument = c.argument;
    r.requested_by = c.requested_by;
    r.status = "verified";
    co_return r;
  }

 private:
  const Clock& clock_;
  DeviceInfo battery_;
  Capabilities caps_;
  std::int64_t commands_ = 0;
};

struct World {
  ManualClock clock{fuzz::session_start()};
  FakeGateway gateway{clock};
  std::unique_ptr<store::Store> store = std::move(*store::open_sqlite(":memory:"));
  boost::asio::thread_pool pool{1};
  std::shared_ptr<net::Router> router =
      rest::make_router(gateway, *store, pool, clock, {"fuzz-token", true});
};

void one_request(std::string_view raw) {
  static World world;
  auto request = net::parse_request(raw, 1 << 20);
  if (!request) return;
  boost::asio::io_context io;
  net::ServerResponse response;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        response = co_await world.router->dispatch(*request);
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);  // an exception out of a handler is a finding
      });
  io.run();
  auto finding = [&](const char* what) {
    std::fprintf(stderr, "finding: %s: %d %s\n", what, response.status, response.body.c_str());
    __builtin_trap();
  };
  if (response.status < 200 || response.status > 599) finding("status out of range");
  if (response.status >= 400 && request->path.starts_with("/api/")) {
    // Errors are JSON objects with an error code and a message.
    boost::system::error_code ec;
    auto body = boost::json::parse(response.body, ec);
    if (ec || !body.is_object() || !body.as_object().contains("error"))
      finding("an error answer that is not a JSON error object");
  }
}

}  // namespace

// (The work is in a C++ function: g++ 12 gives two coroutine lambdas in an extern "C" function
// the same symbol.)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  one_request({reinterpret_cast<const char*>(data), size});
  return 0;
}
