#include "outputs/mqtt/publisher.hpp"

#include <mosquitto.h>

#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <set>

#include "core/metric.hpp"
#include "net/json.hpp"
#include "outputs/mqtt/discovery.hpp"

namespace sb::mqtt {

namespace asio = boost::asio;

struct Publisher::Impl : std::enable_shared_from_this<Impl> {
  asio::any_io_executor executor;
  GatewayApi& gw;
  MqttSettings s;
  std::atomic<bool>& connected;
  mosquitto* mosq = nullptr;
  asio::steady_timer timer;
  std::atomic<bool> stopping{false};
  std::atomic<bool> resend{false};          // set by a (re)connect: publish everything again
  mutable std::mutex mutex;                 // guards sent, stats
  std::map<std::string, std::string> sent;  // topic -> last payload
  PublisherStats stats;

  Impl(asio::any_io_executor ex, GatewayApi& g, MqttSettings settings, std::atomic<bool>& c)
      : executor(ex), gw(g), s(std::move(settings)), connected(c), timer(ex) {}

  void publish(const Message& m, bool force = false) {
    {
      std::lock_guard lock(mutex);
      auto it = sent.find(m.topic);
      if (!force && it != sent.end() && it->second == m.payload) return;
      sent[m.topic] = m.payload;
      if (!connected) {  // dropped, counted once per change; a reconnect sends all again
        stats.dropped++;
        return;
      }
      stats.published++;
      // Under the lock: stop() takes it to end publishing before it destroys the client.
      mosquitto_publish(mosq, nullptr, m.topic.c_str(), int(m.payload.size()), m.payload.data(), 1,
                        m.retain);
    }
  }

  // One scan: discovery and availability on a (re)connect, then every value that changed.
  void scan() {
    bool full = connected && resend.exchange(false);
    if (full) {
      std::lock_guard lock(mutex);
      sent.clear();
    }
    auto live = gw.live();
    if (full) {
      publish({status_topic(s), "online", true}, true);
      for (const auto& m : gateway_discovery(s)) publish(m, true);
      for (const auto& site : gw.sites())
        for (const auto& m : site_discovery(s, site)) publish(m, true);
    }
    // Events as they are raised, never retained: those of a broker outage are not replayed.
    for (auto& [seq, e] : gw.events_after(event_cursor)) {
      event_cursor = seq;
      if (connected) publish({event_topic(s, e.device), event_payload(e), false}, true);
    }
    std::map<std::string, std::map<std::string, double>> site_sums;
    for (const auto& d : live) {
      std::vector<std::string> metrics;
      for (const auto& v : d.values) metrics.push_back(v.metric);
      // Discovery again when a device reports a metric it had not before.
      std::string signature;
      for (const auto& m : metrics) signature += m + ",";
      if (auto caps = gw.capabilities(d.device.id); caps) {
        bool changed;
        {
          std::lock_guard lock(mutex);
          auto& known = discovered[d.device.id];
          changed = full || known != signature;
          known = signature;
        }
        if (changed)
          for (const auto& m : device_discovery(s, d.device, *caps, metrics)) publish(m, true);
      }
      publish({availability_topic(s, d.device.id), d.online ? "online" : "offline", true});
      std::vector<std::pair<std::string, Quality>> qualities;
      for (const auto& v : d.values) qualities.emplace_back(v.metric, v.quality);
      publish({attributes_topic(s, d.device.id),
               attributes_payload(d.device, d.online, d.last_success, qualities), true});
      for (const auto& v : d.values) {
        publish({state_topic(s, d.device.id, v.metric), state_payload(v.metric, v.value), true});
        if (d.online && (v.metric == metric::kPvPower || v.metric == metric::kLoadPower ||
                         v.metric == metric::kGridPower || v.metric == metric::kBatteryPower))
          site_sums[d.device.site][v.metric] += v.value;
      }
    }
    for (const auto& [site, sums] : site_sums)
      for (const auto& [metric, value] : sums)
        publish({site_topic(s, site, metric), state_payload(metric, value), true});
  }
  std::map<std::string, std::string> discovered;  // device -> metrics it was announced with
  std::uint64_t event_cursor = 0;                 // the last event passed on

  // `self` keeps this alive for as long as the coroutine runs.
  static asio::awaitable<void> scan_loop(std::shared_ptr<Impl> self) {
    while (!self->stopping) {
      self->scan();
      self->timer.expires_after(std::chrono::seconds(1));
      boost::system::error_code ec;
      co_await self->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  static asio::awaitable<void> run_command(std::shared_ptr<Impl> self, std::string topic,
                                           std::string payload) {
    auto op = self->command(std::move(topic), std::move(payload));
    co_await std::move(op);
  }
  asio::awaitable<void> command(std::string topic, std::string payload) {
    auto ct = parse_command_topic(s, topic);
    if (!ct) co_return;
    std::optional<DeviceInfo> dev;
    for (const auto& d : gw.devices())
      if (device_key(d.id) == ct->device_key) dev = d;
    auto result_topic =
        s.prefix + "/" + ct->device_key + "/" + std::string(to_string(ct->type)) + "/result";
    auto answer = [&](boost::json::object o) {
      publish({result_topic, net::to_json(o), false}, true);
    };
    if (!dev) {
      answer({{"status", "rejected"}, {"error", "no device '" + ct->device_key + "'"}});
      co_return;
    }
    auto cmd = command_of(*dev, ct->type, payload);
    if (!cmd) {
      answer({{"status", "rejected"}, {"error", cmd.error().message}});
      co_return;
    }
    {
      std::lock_guard lock(mutex);
      stats.commands++;
    }
    auto op = gw.execute(*cmd);
    auto rec = co_await std::move(op);
    if (!rec) {
      answer({{"status", "rejected"}, {"error", rec.error().message}});
      co_return;
    }
    boost::json::object o{{"status", rec->status}, {"detail", rec->detail}, {"audit_id", rec->id}};
    if (command_takes_argument(rec->type))
      o["argument"] = rec->argument;
    else
      o["value"] = rec->value;
    answer(std::move(o));
    if (rec->status == "verified" && rec->type != CommandType::Release)
      publish(
          {command_topic(s, dev->id, rec->type, "state"),
           command_takes_argument(rec->type) ? rec->argument : state_payload("", rec->value), true},
          true);
  }

  // libmosquitto's thread.
  static void on_connect(mosquitto* m, void* obj, int rc) {
    auto* self = static_cast<Impl*>(obj);
    if (self->stopping) return;  // a reconnect racing stop(): nothing more is published
    if (rc != 0) {  // refused (credentials): said once per reason; libmosquitto tries again
      std::string why = mosquitto_connack_string(rc);
      std::lock_guard lock(self->mutex);
      if (self->stats.last_error != why)
        std::cerr << "sunbridge: MQTT " << self->s.host << ":" << self->s.port
                  << ": the broker refused the connection: " << why << "\n";
      self->stats.last_error = why;
      return;
    }
    self->connected = true;
    {
      std::lock_guard lock(self->mutex);
      self->stats.connects++;
      self->stats.last_error.clear();
    }
    self->resend = true;
    auto sub = self->s.prefix + "/+/+/set";
    mosquitto_subscribe(m, nullptr, sub.c_str(), 1);
    // The first scan after a connect need not wait for the timer.
    asio::post(self->executor, [w = self->weak_from_this()] {
      if (auto p = w.lock()) p->scan();
    });
  }
  static void on_disconnect(mosquitto*, void* obj, int) {
    static_cast<Impl*>(obj)->connected = false;
  }
  static void on_message(mosquitto*, void* obj, const mosquitto_message* msg) {
    auto* self = static_cast<Impl*>(obj);
    std::string topic(msg->topic);
    std::string payload(static_cast<const char*>(msg->payload), std::size_t(msg->payloadlen));
    if (msg->retain) return;  // an old command left retained on the broker is not run again
    auto run = run_command(self->shared_from_this(), std::move(topic), std::move(payload));
    asio::co_spawn(self->executor, std::move(run), asio::detached);
  }
};

Publisher::Publisher(asio::any_io_executor executor, GatewayApi& gateway, MqttSettings settings)
    : impl_(std::make_shared<Impl>(executor, gateway, std::move(settings), connected_)) {}

Publisher::~Publisher() {
  stop();
}

PublisherStats Publisher::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

Result<void> Publisher::start() {
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  auto& s = impl_->s;
  if (s.client_id.empty()) {
    char host[64] = {};
    ::gethostname(host, sizeof host - 1);
    s.client_id = "sunbridge-" + std::string(host) + "-" + std::to_string(::getpid());
  }
  auto what = [&](const char* step, int rc) {
    return fail(ErrorKind::InvalidArgument, "MQTT " + s.host + ":" + std::to_string(s.port) + ": " +
                                                step + ": " + mosquitto_strerror(rc));
  };
  impl_->mosq = mosquitto_new(s.client_id.c_str(), true, impl_.get());
  if (!impl_->mosq) return fail(ErrorKind::Internal, "MQTT: cannot create a client");
  auto* m = impl_->mosq;
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  auto status = status_topic(s);
  if (int rc = mosquitto_will_set(m, status.c_str(), 7, "offline", 1, true))
    return what("last will", rc);
  if (!s.username.empty())
    if (int rc = mosquitto_username_pw_set(m, s.username.c_str(),
                                           s.password.empty() ? nullptr : s.password.c_str()))
      return what("credentials", rc);
  if (s.tls)
    if (int rc = mosquitto_tls_set(m, s.ca_file.empty() ? nullptr : s.ca_file.c_str(),
                                   s.ca_file.empty() ? "/etc/ssl/certs" : nullptr, nullptr, nullptr,
                                   nullptr))
      return what("TLS (ca_file)", rc);
  mosquitto_connect_callback_set(m, &Impl::on_connect);
  mosquitto_disconnect_callback_set(m, &Impl::on_disconnect);
  mosquitto_message_callback_set(m, &Impl::on_message);
  mosquitto_reconnect_delay_set(m, 1, 60, true);
  // A broker that is not there yet is not an error: the loop keeps trying.
  (void)mosquitto_connect_async(m, s.host.c_str(), s.port, int(s.keepalive.count()));
  if (int rc = mosquitto_loop_start(m)) return what("network thread", rc);
  auto loop = Impl::scan_loop(impl_);
  asio::co_spawn(impl_->executor, std::move(loop), asio::detached);
  return Result<void>{};
}

void Publisher::stop() {
  if (!impl_->mosq || impl_->stopping.exchange(true)) return;
  auto* m = impl_->mosq;
  asio::post(impl_->executor, [p = impl_] { p->timer.cancel(); });
  bool was_connected;
  {
    // No publish() runs past this point: they check `connected` under the same lock.
    std::lock_guard lock(impl_->mutex);
    was_connected = connected_.exchange(false);
  }
  if (was_connected) {
    auto status = status_topic(impl_->s);
    mosquitto_publish(m, nullptr, status.c_str(), 7, "offline", 1, true);
  }
  mosquitto_disconnect(m);
  mosquitto_loop_stop(m, false);
  std::lock_guard lock(impl_->mutex);
  mosquitto_destroy(m);
  impl_->mosq = nullptr;
}

}  // namespace sb::mqtt
