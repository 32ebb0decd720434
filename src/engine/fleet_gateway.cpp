#include "engine/fleet_gateway.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

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

FleetGateway::FleetGateway(GatewayApi& local, store::Fleet& fleet, store::Store& store,
                           asio::thread_pool& blocking, Millis lease)
    : local_(local), fleet_(fleet), store_(store), blocking_(blocking), lease_(lease) {}

asio::awaitable<Result<CommandRecord>> FleetGateway::execute(Command cmd) {
  if (local_.device(cmd.device)) {
    auto op = local_.execute(std::move(cmd));
    co_return co_await std::move(op);
  }
  auto connection = connection_of_device(cmd.device);
  auto& fleet = fleet_;
  auto listed = net::run_blocking(blocking_, [&fleet] { return fleet.connections(); });
  auto rows = co_await std::move(listed);
  if (!rows) co_return fail(with_context(rows.error(), "command for " + cmd.device));
  if (connection.empty() || std::none_of(rows->begin(), rows->end(),
                                         [&](const auto& r) { return r.name == connection; })) {
    // Neither polled here nor the fleet's: the gateway's own answer names what it knows.
    auto op = local_.execute(std::move(cmd));
    co_return co_await std::move(op);
  }
  auto queue = net::run_blocking(
      blocking_, [&fleet, connection, cmd] { return fleet.queue_command(connection, cmd); });
  auto id = co_await std::move(queue);
  if (!id) co_return fail(with_context(id.error(), "command for " + cmd.device + " not queued"));

  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  const auto queued_at = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> taken_at;
  for (;;) {
    timer.expires_after(kLookEvery);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto look = net::run_blocking(blocking_, [&fleet, n = *id] { return fleet.command(n); });
    auto c = co_await std::move(look);
    auto now = std::chrono::steady_clock::now();
    if (!c) {
      // The database away for a moment: looked at again, up to the longest a command can take.
      if (now - queued_at > lease_ + kLongestRun)
        co_return fail(with_context(c.error(), "the outcome of the command for " + cmd.device));
      continue;
    }
    if (c->status == "done") {
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
    if (c->status == "failed" || c->status == "interrupted")
      co_return fail(parse_error_kind(c->error_kind).value_or(ErrorKind::Internal), c->error);
    if (c->status == "withdrawn")
      co_return fail(ErrorKind::Conflict, "the command for " + cmd.device + " was withdrawn");
    if (c->status == "running") {
      if (!taken_at) taken_at = now;
      if (now - *taken_at > kLongestRun)
        co_return fail(ErrorKind::Timeout,
                       "worker " + c->worker + " has run the command for " + cmd.device +
                           " for over " + seconds_text(kLongestRun) +
                           "; its outcome will be in GET /api/v1/commands?device=" + cmd.device);
      continue;
    }
    // Still queued: a live holder takes it within a second; none within a lease, none will.
    if (now - queued_at > lease_) {
      auto withdraw =
          net::run_blocking(blocking_, [&fleet, n = *id] { return fleet.withdraw_command(n); });
      auto gone = co_await std::move(withdraw);
      if (gone && *gone)
        co_return fail(ErrorKind::Timeout, "no worker took the command for " + cmd.device +
                                               " within " + seconds_text(lease_) +
                                               ": no live worker holds connection " + connection +
                                               " (see sunbridge fleet list); nothing was sent");
    }
  }
}

}  // namespace sb::engine
