// The MQTT output against a real Mosquitto broker on a loopback port, read and driven by a
// real MQTT client (libmosquitto): Home Assistant discovery, states, availability, a command
// round trip through the executor, the broker going away and coming back, the clean offline at
// stop, and the last will when `sunbridge demo --mqtt` is killed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "engine/drivers.hpp"
#include "engine/gateway.hpp"
#include "loopback.hpp"
#include "net/test_io.hpp"
#include "outputs/mqtt/publisher.hpp"
#include "ports.hpp"
#include "process.hpp"
#include "vendors/sonnen/simulator.hpp"

using namespace sb;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

using test::accepts;
using test::free_port;

// Mosquitto on 127.0.0.1:port, anonymous, nothing kept on disk.
struct Broker {
  fs::path dir;
  std::uint16_t port;
  std::unique_ptr<test::Process> process;
  // `extra` goes into the configuration after the listener line, "{dir}" standing for the
  // broker's folder; `prepare` runs in that folder first (certificates, a password file).
  explicit Broker(std::uint16_t p, std::string extra = "allow_anonymous true\n",
                  std::string prepare = "")
      : port(p) {
    dir = fs::temp_directory_path() /
          ("sb-mqtt-" + std::to_string(::getpid()) + "-" + std::to_string(p));
    fs::create_directories(dir);
    if (!prepare.empty()) {
      auto cmd = "cd " + dir.string() + " && (" + prepare + ") > prepare.log 2>&1";
      EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    for (auto at = extra.find("{dir}"); at != std::string::npos; at = extra.find("{dir}"))
      extra.replace(at, 5, dir.string());
    std::ofstream(dir / "mosquitto.conf") << "listener " << port << " 127.0.0.1\n"
                                          << extra << "persistence false\n";
    start();
  }
  void start() {
    process = std::make_unique<test::Process>(
        std::vector<std::string>{"/usr/sbin/mosquitto", "-c", (dir / "mosquitto.conf").string()});
    for (int i = 0; i < 100 && !accepts(port); ++i) std::this_thread::sleep_for(20ms);
  }
  void kill() { process.reset(); }  // SIGKILL
  ~Broker() {
    process.reset();
    fs::remove_all(dir);
  }
};

// A plain MQTT client subscribed to everything.
struct Client {
  mosquitto* m = nullptr;
  std::mutex mutex;
  std::condition_variable cv;
  std::map<std::string, std::string> last;
  std::multimap<std::string, std::string> all;
  explicit Client(std::uint16_t port, std::string ca = "", std::string user = "",
                  std::string password = "") {
    mosquitto_lib_init();
    m = mosquitto_new(nullptr, true, this);
    if (!ca.empty()) mosquitto_tls_set(m, ca.c_str(), nullptr, nullptr, nullptr, nullptr);
    if (!user.empty()) mosquitto_username_pw_set(m, user.c_str(), password.c_str());
    mosquitto_connect_callback_set(m, [](mosquitto* m, void*, int rc) {
      if (rc == 0) mosquitto_subscribe(m, nullptr, "#", 1);
    });
    mosquitto_message_callback_set(m, [](mosquitto*, void* obj, const mosquitto_message* msg) {
      auto* self = static_cast<Client*>(obj);
      std::lock_guard lock(self->mutex);
      std::string payload(static_cast<const char*>(msg->payload), std::size_t(msg->payloadlen));
      self->last[msg->topic] = payload;
      self->all.emplace(msg->topic, payload);
      self->cv.notify_all();
    });
    mosquitto_connect(m, "127.0.0.1", port, 30);
    mosquitto_loop_start(m);
  }
  ~Client() {
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
  }
  void publish(const std::string& topic, const std::string& payload) {
    mosquitto_publish(m, nullptr, topic.c_str(), int(payload.size()), payload.data(), 1, false);
  }
  /// The topic's latest payload once `ok` holds for it (empty after the deadline).
  template <class Pred>
  std::string wait_if(const std::string& topic, Pred ok, milliseconds limit = seconds(10)) {
    std::unique_lock lock(mutex);
    std::string got;
    cv.wait_for(lock, limit, [&] {
      auto it = last.find(topic);
      if (it == last.end() || !ok(it->second)) return false;
      got = it->second;
      return true;
    });
    return got;
  }
  std::string wait(const std::string& topic, milliseconds limit = seconds(10)) {
    return wait_if(
        topic, [](const std::string&) { return true; }, limit);
  }
  void forget() {
    std::lock_guard lock(mutex);
    last.clear();
    all.clear();
  }
  std::size_t count(const std::string& topic) {
    std::lock_guard lock(mutex);
    return all.count(topic);
  }
};

boost::json::object parse(const std::string& s) {
  auto v = boost::json::parse(s.empty() ? "{}" : s);
  return v.is_object() ? v.as_object() : boost::json::object{};
}

// A gateway polling a sonnen simulator every 200 ms, for the publisher to publish.
struct SonnenGateway {
  // The clock outlives the I/O threads: a poll still running at teardown reads it.
  RealClock clock;
  net::TestIo io{2};
  boost::asio::thread_pool pool{2};
  net::HttpClient http{io.executor()};
  std::unique_ptr<store::Store> store = std::move(*store::open_sqlite(":memory:"));
  sonnen::Simulator sim{io.executor(), clock, sim::SiteConfig{}};
  std::unique_ptr<engine::Gateway> gw;
  SonnenGateway() {
    EXPECT_TRUE(sim.listen("127.0.0.1", 0));
    auto c = test::loopback_connection("bat", "sonnen", sim.port(), Millis(200));
    c.options["verify_timeout"] = "3";
    gw = std::make_unique<engine::Gateway>(
        engine::GatewayDeps{io.executor(), clock, *store, engine::builtin_drivers(), pool, http},
        test::one_site_config(c));
    EXPECT_TRUE(gw->start());
  }
  ~SonnenGateway() {
    gw->close(std::chrono::seconds(5));  // the loops end before the pool goes
    sim.stop();
    pool.wait();
    store->close();
  }
};

}  // namespace

TEST(Mqtt, DiscoveryStatesCommandsAndTheBrokerComingBack) {
  Broker broker(free_port());
  ASSERT_TRUE(accepts(broker.port)) << "mosquitto did not start";
  SonnenGateway rig;
  auto& io = rig.io;
  auto& gw = *rig.gw;
  auto& sim = rig.sim;
  auto& store = rig.store;
  Client client(broker.port);
  MqttSettings s;
  s.host = "127.0.0.1";
  s.port = broker.port;
  s.client_id = "sunbridge-test";
  mqtt::Publisher pub(io.executor(), gw, s);
  ASSERT_TRUE(pub.start());

  // Discovery, retained, as Home Assistant reads it.
  EXPECT_EQ(client.wait_if("sunbridge/status", [](auto& p) { return p == "online"; }), "online");
  auto soc = parse(client.wait("homeassistant/sensor/sunbridge_bat_battery_battery_soc/config"));
  EXPECT_EQ(soc["device_class"], "battery");
  EXPECT_EQ(soc["unit_of_measurement"], "%");
  EXPECT_EQ(soc["state_topic"], "sunbridge/bat_battery/battery.soc");
  EXPECT_EQ(soc["device"].as_object()["via_device"], "sunbridge_site_home");
  auto setpoint =
      parse(client.wait("homeassistant/number/sunbridge_bat_battery_battery-power/config"));
  EXPECT_EQ(setpoint["command_topic"], "sunbridge/bat_battery/battery-power/set");
  EXPECT_EQ(setpoint["min"].to_number<double>(), -4600);
  EXPECT_EQ(setpoint["max"].to_number<double>(), 4600);
  EXPECT_FALSE(client.wait("homeassistant/sensor/sunbridge_site_home_pv_power/config").empty());
  // States and availability.
  EXPECT_EQ(
      client.wait_if("sunbridge/bat_battery/availability", [](auto& p) { return p == "online"; }),
      "online");
  auto soc_value = client.wait("sunbridge/bat_battery/battery.soc");
  ASSERT_FALSE(soc_value.empty());
  double v = std::stod(soc_value);
  EXPECT_GE(v, 0);
  EXPECT_LE(v, 100);
  EXPECT_FALSE(client.wait("sunbridge/bat_battery/device.state").empty());
  auto attrs = parse(client.wait_if("sunbridge/bat_battery/attributes", [](auto& p) {
    return p.find("\"last_success\":\"") != std::string::npos;
  }));
  EXPECT_EQ(attrs["vendor"], "sonnen");
  EXPECT_EQ(attrs["site"], "home");
  EXPECT_EQ(attrs["online"], true);
  EXPECT_FALSE(client.wait("sunbridge/site/home/pv.power").empty());

  // A command from HA runs through the executor: verified, audited, its state published.
  client.publish("sunbridge/bat_battery/battery-power/set", "-1500");
  auto result = parse(client.wait("sunbridge/bat_battery/battery-power/result"));
  EXPECT_EQ(result["status"], "verified") << boost::json::serialize(result);
  EXPECT_EQ(result["value"].to_number<double>(), -1500);
  EXPECT_EQ(client.wait("sunbridge/bat_battery/battery-power/state"), "-1500");
  EXPECT_DOUBLE_EQ(sim.with_site([](sim::Site& s) { return s.state().battery_w; }), -1500);
  auto audit = store->commands({.limit = 10});
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(audit->front().requested_by, "mqtt");
  EXPECT_EQ(audit->front().status, "verified");
  // The command's event reaches automations: HA's event entity of the device, and its topic.
  auto events = parse(client.wait("homeassistant/event/sunbridge_bat_battery_events/config"));
  EXPECT_EQ(events["state_topic"], "sunbridge/bat_battery/event");
  auto types = events["event_types"].as_array();
  for (auto t : {"device.offline", "history.gap_unfillable", "store.disk_low", "vendor"})
    EXPECT_NE(std::find(types.begin(), types.end(), boost::json::value(t)), types.end()) << t;
  EXPECT_FALSE(
      client.wait("homeassistant/event/sunbridge_gateway_sunbridge_events/config").empty());
  auto event = parse(client.wait_if("sunbridge/bat_battery/event", [](auto& p) {
    return p.find("command.verified") != std::string::npos;
  }));
  EXPECT_EQ(event["event_type"], "command.verified");
  EXPECT_EQ(event["severity"], "info");
  EXPECT_NE(std::string(event["message"].as_string()).find("battery-power -1500 by mqtt"),
            std::string::npos);
  // Bad ones are answered with the reason, and audited when the executor refused them.
  client.publish("sunbridge/bat_battery/battery-power/set", "99999");
  auto refused = parse(client.wait_if("sunbridge/bat_battery/battery-power/result", [](auto& p) {
    return p.find("rejected") != std::string::npos;
  }));
  EXPECT_EQ(refused["error"],
            "battery-power 99999 W is outside bat:battery's range -4600 W (charge) .. 4600 W "
            "(discharge)");
  client.publish("sunbridge/bat_battery/min-soc/set", "abc");
  EXPECT_EQ(parse(client.wait("sunbridge/bat_battery/min-soc/result"))["error"],
            "min-soc wants a number, not 'abc'");
  EXPECT_EQ(client.count("sunbridge/bat_battery/min-soc/result"), 1u);

  // The broker goes away: polling goes on, nothing waits for it; when it is back (empty, as
  // after a restart without persistence) everything is published again.
  broker.kill();
  for (int i = 0; i < 100 && pub.connected(); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(pub.connected());
  auto polls = gw.health().front().polls;
  std::this_thread::sleep_for(1s);
  EXPECT_GT(gw.health().front().polls, polls + 2);
  EXPECT_GT(pub.stats().dropped, 0u);
  broker.start();
  Client again(broker.port);
  EXPECT_EQ(again.wait("sunbridge/status", seconds(15)), "online");
  EXPECT_FALSE(again.wait("homeassistant/sensor/sunbridge_bat_battery_battery_soc/config").empty());
  EXPECT_FALSE(again.wait("sunbridge/bat_battery/battery.soc").empty());
  EXPECT_EQ(pub.stats().connects, 2u);

  // A clean stop leaves "offline" retained.
  pub.stop();
  EXPECT_EQ(again.wait_if("sunbridge/status", [](auto& p) { return p == "offline"; }), "offline");
}

TEST(Mqtt, AKilledGatewayIsMarkedOfflineByItsLastWill) {
  Broker broker(free_port());
  ASSERT_TRUE(accepts(broker.port));
  auto dir = fs::temp_directory_path() / ("sb-mqtt-demo-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Client client(broker.port);
  test::Process demo({SUNBRIDGE_BINARY, "demo", "--listen", "127.0.0.1:0", "--db",
                      (dir / "d.db").string(), "--mqtt",
                      "mqtt://127.0.0.1:" + std::to_string(broker.port), "--mqtt-prefix", "demo"});
  EXPECT_EQ(client.wait_if(
                "demo/status", [](auto& p) { return p == "online"; }, seconds(15)),
            "online");
  // All three vendors' devices appear in Home Assistant.
  EXPECT_FALSE(client.wait("demo/sonnen_battery/battery.soc").empty());
  EXPECT_FALSE(
      client.wait("homeassistant/sensor/sunbridge_sonnen_battery_battery_soc/config").empty());
  demo.signal(SIGKILL);
  demo.wait();
  EXPECT_EQ(client.wait_if("demo/status", [](auto& p) { return p == "offline"; }), "offline");
  fs::remove_all(dir);
}

TEST(Mqtt, TlsAndCredentialsAreUsedAndAWrongPasswordNeverConnects) {
  // A broker that takes only TLS with its own CA and a user with a password.
  Broker broker(free_port(),
                "certfile {dir}/cert.pem\nkeyfile {dir}/key.pem\npassword_file {dir}/passwd\n"
                "allow_anonymous false\n",
                "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
                "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 && chmod 644 key.pem && "
                "mosquitto_passwd -b -c passwd ha s3cret && chmod 644 passwd");
  ASSERT_TRUE(accepts(broker.port)) << "mosquitto did not start";
  auto ca = (broker.dir / "cert.pem").string();
  Client client(broker.port, ca, "ha", "s3cret");
  SonnenGateway rig;
  auto& io = rig.io;
  auto& gw = *rig.gw;
  auto settings = parse_mqtt_url("mqtts://ha:s3cret@127.0.0.1:" + std::to_string(broker.port));
  ASSERT_TRUE(settings);
  settings->ca_file = ca;
  mqtt::Publisher pub(io.executor(), gw, *settings);
  ASSERT_TRUE(pub.start());
  EXPECT_EQ(client.wait_if("sunbridge/status", [](auto& p) { return p == "online"; }), "online");
  EXPECT_FALSE(client.wait("sunbridge/bat_battery/battery.soc").empty());
  pub.stop();

  settings->password = "wrong";
  settings->client_id = "sunbridge-wrong";
  mqtt::Publisher wrong(io.executor(), gw, *settings);
  ASSERT_TRUE(wrong.start());
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(wrong.connected());
  EXPECT_EQ(wrong.stats().connects, 0u);
  EXPECT_NE(wrong.stats().last_error.find("not authori"), std::string::npos)
      << wrong.stats().last_error;
  wrong.stop();
  // A CA file that does not exist is refused at start, with the reason.
  settings->ca_file = (broker.dir / "nope.pem").string();
  mqtt::Publisher bad(io.executor(), gw, *settings);
  auto r = bad.start();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("TLS (ca_file)"), std::string::npos) << r.error().message;
}
