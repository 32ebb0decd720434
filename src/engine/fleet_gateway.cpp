#include "engine/fleet_gateway.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <set>

#include "net/blocking.hpp"

namespace sb::engine {

namespace asio = boost::asio;

namespace {

// How often the outcome of a queued command is looked at, and how long one that a holder took
// may run (the holder's own timeouts end it well before: a login, the call, the read-back).
constexpr Millis kLookEvery{200};
constexpr Millis kLongestRun{120'000};

std::string seconds_text(Millis d) {
  return std::to_string((d.count() + 999) / 1000) + " s";
}

}  // namespace

std::string connection_of_device(const std::string& device) {
  auto colon = device.find(':');
  return colon == std::string::npos ? std::string() : device.substr(0, colon);
}

FleetGateway::FleetGateway(GatewayApi& local, FleetView& view, store::Fleet& fleet,
                           store::Store& store, asio::thread_pool& blocking, Millis lease,
                           std::string worker)
    : local_(local),
      view_(view),
      fleet_(fleet),
      store_(store),
      blocking_(blocking),
      lease_(lease),
      worker_(std::move(worker)) {}

std::vector<DeviceInfo> FleetGateway::devices() const {
  auto out = local_.devices();
  std::set<std::string> here;
  for (const auto& d : out) here.insert(d.connection);
  auto remote = view_.all();  // held while iterated
  for (const auto& [name, e] : *remote)
    if (!here.contains(name))
      for (const auto& d : e.status.devices) out.push_back(d.live.device);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::optional<DeviceInfo> FleetGateway::device(const std::string& id) const {
  if (auto d = local_.device(id)) return d;
  if (auto e = view_.of(connection_of_device(id)))
    for (const auto& d : e->status.devices)
      if (d.live.device.id == id) return d.live.device;
  return std::nullopt;
}

std::optional<Capabilities> FleetGateway::capabilities(const std::string& device) const {
  if (local_.device(device)) return local_.capabilities(device);
  if (auto e = view_.of(connection_of_device(device)))
    for (const auto& d : e->status.devices)
      if (d.live.device.id == device) return d.capabilities;
  return std::nullopt;
}

std::vector<DeviceLive> FleetGateway::live() const {
  auto out = local_.live();
  std::set<std::string> here;
  for (const auto& d : out) here.insert(d.device.connection);
  auto remote = view_.all();  // held while iterated
  for (const auto& [name, e] : *remote)
    if (!here.contains(name))
      for (const auto& d : e.status.devices) out.push_back(d.live);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.device.id < b.device.id; });
  return out;
}

std::vector<ConnectionHealth> FleetGateway::health() const {
  auto out = local_.health();
  std::set<std::string> here;
  for (auto& h : out) {
    h.worker = worker_;
    here.insert(h.name);
  }
  auto remote = view_.all();
  for (const auto& [name, e] : *remote)
    if (here.insert(name).second) {
      out.push_back(e.status.health);
      out.back().worker = e.worker;
    }
  // A connection of the fleet nobody holds (no live worker, or none whose key opens it).
  for (const auto& c : view_.connections())
    if (here.insert(c.name).second) {
      ConnectionHealth h;
      h.name = c.name;
      h.vendor = c.vendor;
      h.site = c.site;
      h.state = "unheld";
      h.last_error = "no live worker holds this connection of the fleet";
      out.push_back(std::move(h));
    }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

asio::awaitable<Result<DeviceSettings>> FleetGateway::settings(std::string device, bool refresh) {
  auto connection = fleet_connection(device);
  auto known = co_await std::move(connection);
  if (!known) co_return fail(with_context(known.error(), "settings of " + device));
  if (known->empty()) {
    // Polled here, or nobody's in the fleet: the gateway's own answer.
    auto op = local_.settings(std::move(device), refresh);
    co_return co_await std::move(op);
  }
  auto& fleet = fleet_;
  auto queue = net::run_blocking(blocking_, [&fleet, c = *known, device, refresh, w = worker_] {
    return fleet.queue_settings_read(c, device, refresh, "worker " + w);
  });
  auto id = co_await std::move(queue);
  if (!id) co_return fail(with_context(id.error(), "settings read of " + device + " not queued"));
  auto wait = outcome(*id, *known, "the settings read of " + device, "");
  auto c = co_await std::move(wait);
  if (!c) co_return fail(c.error());
  co_return decode_settings(c->answer, device + " (from worker " + c->worker + ")");
}

asio::awaitable<Result<CommandRecord>> FleetGateway::execute(Command cmd) {
  auto connection = fleet_connection(cmd.device);
  auto known = co_await std::move(connection);
  if (!known) co_return fail(with_context(known.error(), "command for " + cmd.device));
  if (known->empty()) {
    // Polled here, or neither polled here nor the fleet's: the gateway's own answer names what
    // it knows.
    auto op = local_.execute(std::move(cmd));
    co_return co_await std::move(op);
  }
  auto& fleet = fleet_;
  auto queue = net::run_blocking(blocking_, [&fleet, connection = *known, cmd] {
    return fleet.queue_command(connection, cmd);
  });
  auto id = co_await std::move(queue);
  if (!id) co_return fail(with_context(id.error(), "command for " + cmd.device + " not queued"));
  view_.count([](auto& s) { ++s.commands_forwarded; });
  auto wait = outcome(*id, *known, "the command for " + cmd.device,
                      "; its outcome will be in GET /api/v1/commands?device=" + cmd.device);
  auto c = co_await std::move(wait);
  if (!c) co_return fail(c.error());
  auto& store = store_;
  store::CommandQuery q{{cmd.device}, 1, c->audit_id};
  auto read = net::run_blocking(blocking_, [&store, q] { return store.commands(q); });
  auto recs = co_await std::move(read);
  if (!recs) co_return fail(with_context(recs.error(), "command for " + cmd.device));
  if (recs->empty())
    co_return fail(ErrorKind::Internal, "worker " + c->worker + " ran the command for " +
                                            cmd.device + " but its audit row " +
                                            std::to_string(c->audit_id.value_or(0)) +
                                            " is not in the database");
  co_return recs->front();
}

asio::awaitable<Result<std::string>> FleetGateway::fleet_connection(const std::string& device) {
  if (local_.device(device)) co_return std::string();
  auto connection = connection_of_device(device);
  if (connection.empty()) co_return std::string();
  auto& fleet = fleet_;
  auto look = net::run_blocking(blocking_,
                                [&fleet, connection] { return fleet.has_connection(connection); });
  auto known = co_await std::move(look);
  if (!known) co_return fail(known.error());
  co_return *known ? connection : std::string();
}

asio::awaitable<Result<store::FleetCommand>> FleetGateway::outcome(std::int64_t id,
                                                                   std::string connection,
                                                                   std::string what,
                                                                   std::string if_slow) {
  auto& fleet = fleet_;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  const auto queued_at = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> taken_at;
  for (;;) {
    timer.expires_after(kLookEvery);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto look = net::run_blocking(blocking_, [&fleet, id] { return fleet.command(id); });
    auto c = co_await std::move(look);
    auto now = std::chrono::steady_clock::now();
    if (!c) {
      // The database away for a moment: looked at again, up to the longest a command can take.
      if (now - queued_at > lease_ + kLongestRun)
        co_return fail(with_context(c.error(), "the outcome of " + what));
      continue;
    }
    if (c->status == "done") co_return std::move(*c);
    if (c->status == "failed" || c->status == "interrupted")
      co_return fail(parse_error_kind(c->error_kind).value_or(ErrorKind::Internal), c->error);
    if (c->status == "withdrawn") co_return fail(ErrorKind::Conflict, what + " was withdrawn");
    if (c->status == "running") {
      if (!taken_at) taken_at = now;
      if (now - *taken_at > kLongestRun)
        co_return fail(ErrorKind::Timeout, "worker " + c->worker + " has run " + what +
                                               " for over " + seconds_text(kLongestRun) + if_slow);
      continue;
    }
    // Still queued: a live holder takes it within a second; none within a lease, none will.
    if (now - queued_at > lease_) {
      auto withdraw =
          net::run_blocking(blocking_, [&fleet, id] { return fleet.withdraw_command(id); });
      auto gone = co_await std::move(withdraw);
      if (gone && *gone)
        co_return fail(ErrorKind::Timeout, "no worker took " + what + " within " +
                                               seconds_text(lease_) +
                                               ": no live worker holds connection " + connection +
                                               " (see sunbridge fleet list); nothing was sent");
    }
  }
}

}  // namespace sb::engine
