#include "engine/fleet_worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "core/log.hpp"
#include "engine/fleet.hpp"
#include "net/crypto.hpp"

namespace sb::engine {

namespace {

std::string names_of(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out;
}

std::vector<std::string> connections_of(const std::vector<store::ConnectionLease>& leases) {
  std::vector<std::string> out;
  for (const auto& l : leases) out.push_back(l.connection);
  return out;
}

}  // namespace

std::string host_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::string new_worker_id() {
  return host_name() + ":" + std::to_string(::getpid()) + ":" +
         crypto::hex(crypto::random_bytes(3));
}

FleetWorker::FleetWorker(store::Fleet& fleet, store::Store& store, Gateway& gateway,
                         boost::asio::any_io_executor io, FleetView& view,
                         store::Fleet& status_fleet, Config base, std::string key, std::string id,
                         std::string api)
    : fleet_(fleet),
      store_(store),
      gateway_(gateway),
      io_(std::move(io)),
      view_(view),
      status_fleet_(status_fleet),
      base_(std::move(base)),
      key_(std::move(key)),
      id_(std::move(id)),
      api_(std::move(api)),
      ttl_(base_.fleet ? base_.fleet->lease : Millis(30'000)) {}

FleetWorker::~FleetWorker() {
  stop();
}

std::vector<store::ConnectionLease> FleetWorker::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

Result<void> FleetWorker::check_key() {
  auto rows = fleet_.connections();
  if (!rows) return fail(rows.error());
  if (rows->empty()) return {};
  for (const auto& r : *rows)
    if (open_connection(r, key_)) return {};
  return fail(ErrorKind::InvalidArgument,
              "the fleet key opens none of the " + std::to_string(rows->size()) +
                  " connection(s) in the database: they were sealed with another key (is "
                  "'fleet:' naming the fleet's key file or variable?)");
}

Result<std::string> FleetWorker::step() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  std::vector<std::string> lost, taken, given;
  // Not renewed for two thirds of a lease (the database unreachable): the leases may run out
  // before the next renewal gets through, and then another worker may hold them. Stop now.
  auto give_up_if_late = [&](const Error& e) -> Result<std::string> {
    view_.count([](FleetWorkerStats& s) { ++s.round_failures; });
    if (!held_.empty() && now - renewed_at_ > ttl_ * 2 / 3) {
      lost = connections_of(held_);
      held_.clear();
      draining_.clear();
      view_.count([&](FleetWorkerStats& s) {
        s.lost += static_cast<std::int64_t>(lost.size());
        s.leases_held = 0;
      });
      auto r = apply({});
      return fail(e.kind, e.message +
                              "; the leases could not be renewed in time, so this worker "
                              "stopped polling " +
                              names_of(lost) + (r ? "" : " (" + r.error().message + ")"));
    }
    return fail(e);
  };
  if (auto r =
          fleet_.heartbeat({id_, host_name(), static_cast<std::int64_t>(::getpid()), api_, {}, {}});
      !r)
    return give_up_if_late(r.error());
  auto rows = fleet_.connections();
  if (!rows) return give_up_if_late(rows.error());
  auto mine = held_;
  mine.insert(mine.end(), draining_.begin(), draining_.end());
  auto renewed = fleet_.renew(id_, mine, ttl_);
  if (!renewed) return give_up_if_late(renewed.error());
  for (const auto& l : held_)
    if (std::none_of(renewed->begin(), renewed->end(),
                     [&](const auto& r) { return r.connection == l.connection; }))
      lost.push_back(l.connection);
  auto draining = connections_of(draining_);
  std::set<std::string> was_draining(draining.begin(), draining.end());
  held_.clear();
  draining_.clear();
  for (auto& l : *renewed) (was_draining.contains(l.connection) ? draining_ : held_).push_back(l);
  renewed_at_ = now;

  // From here a failure still lets the gateway drop what the renewal lost (below), and
  // leaves the share as it is until the next round.
  std::optional<Error> failed;
  auto alive = fleet_.workers(ttl_);
  if (!alive) failed = alive.error();
  std::size_t live = alive ? std::max<std::size_t>(1, alive->size()) : 1;
  std::size_t share = alive ? (rows->size() + live - 1) / live : held_.size();
  std::sort(held_.begin(), held_.end(),
            [](const auto& a, const auto& b) { return a.connection < b.connection; });
  std::vector<store::ConnectionLease> giving;
  if (held_.size() > share) {
    for (auto it = held_.begin() + static_cast<std::ptrdiff_t>(share); it != held_.end(); ++it) {
      given.push_back(it->connection);
      giving.push_back(*it);
    }
    held_.resize(share);
  } else if (held_.size() < share) {
    if (auto claimed = fleet_.claim(id_, share - held_.size(), ttl_); !claimed) {
      failed = claimed.error();
    } else {
      taken = connections_of(*claimed);
      std::sort(taken.begin(), taken.end());
      held_.insert(held_.end(), claimed->begin(), claimed->end());
    }
  }
  // A command the previous holder was running when it died will never finish: its audit row
  // and its queue row say so instead of "pending" and "running" (the new holder cannot know
  // whether the device took it), and the caller waiting on the queue row gets that answer.
  if (!taken.empty()) (void)fleet_.interrupt_commands(taken);
  if (!taken.empty())
    if (auto n = store_.close_interrupted_commands(
            std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()),
            "the worker holding the connection stopped while the command ran; whether the "
            "device took it is not known",
            taken);
        n && *n > 0)
      log(LogLevel::Warning, "fleet", names_of(taken),
          std::to_string(*n) + " command(s) cut off by the previous holder marked interrupted");
  // The gateway stops polling what goes before it is handed back; a connection whose loop is
  // still inside a slow call is kept (renewed) until that call is over.
  auto applied = apply(*rows);
  if (applied) {
    draining_.insert(draining_.end(), giving.begin(), giving.end());
  } else {  // still polled: kept, and given next round
    held_.insert(held_.end(), giving.begin(), giving.end());
    given.clear();
  }
  auto going = connections_of(draining_);
  auto still = gateway_.finishing({going.begin(), going.end()});
  std::vector<std::string> released;
  std::erase_if(draining_, [&](const auto& l) {
    if (still.contains(l.connection)) return false;
    released.push_back(l.connection);
    return true;
  });
  if (!released.empty())
    if (auto r = fleet_.release(id_, released); !r && !failed) failed = r.error();
  view_.count([&](FleetWorkerStats& s) {
    s.worker = id_;
    s.leases_held = static_cast<std::int64_t>(held_.size());
    s.connections = static_cast<std::int64_t>(rows->size());
    if (alive) s.workers_alive = static_cast<std::int64_t>(alive->size());
    s.taken += static_cast<std::int64_t>(taken.size());
    s.handed_back += static_cast<std::int64_t>(given.size());
    s.lost += static_cast<std::int64_t>(lost.size());
    if (failed || !applied) ++s.round_failures;
  });
  std::string out;
  if (!taken.empty()) out += "; took " + names_of(taken);
  if (!lost.empty()) out += "; lost " + names_of(lost) + " (another worker holds them now)";
  if (!draining_.empty())
    out += "; a call of " + names_of(connections_of(draining_)) +
           " is still out: its lease stays here until it is answered";
  if (!given.empty())
    out += "; handed back " + names_of(given) + " (fair share " + std::to_string(share) + " of " +
           std::to_string(rows->size()) + " with " + std::to_string(live) + " worker(s))";
  if (!applied)
    failed = applied.error();
  else if (!applied->empty())
    out += "; " + *applied;
  // What changed is said even when the round ends in an error.
  if (failed)
    return fail(failed->kind,
                out.empty() ? failed->message : out.substr(2) + "; " + failed->message);
  return out.empty() ? out : out.substr(2);
}

Result<std::string> FleetWorker::apply(const std::vector<store::FleetConnection>& rows) {
  auto names = connections_of(held_);
  std::sort(names.begin(), names.end());
  if (names == polling_) return std::string();
  if (pass_on_) {
    for (const auto& r : rows) passing_on_.insert(r.name);
    passing_on_.insert(polling_.begin(), polling_.end());
  }
  gateway_.pass_leases_on(passing_on_);
  Config next = base_;
  // The sites as last read: letting go of connections (the database unreachable) must not
  // wait for the database.
  if (auto sites = store_.sites())
    sites_ = std::move(*sites);
  else if (!names.empty())
    return fail(sites.error());
  for (const auto& s : sites_)
    if (std::none_of(next.sites.begin(), next.sites.end(),
                     [&](const Site& x) { return x.id == s.id; }))
      next.sites.push_back(s);
  std::vector<std::string> sealed_wrong;
  for (const auto& name : names) {
    auto row =
        std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.name == name; });
    if (row == rows.end()) continue;  // removed since: its lease went with it
    auto c = open_connection(*row, key_);
    if (!c) {
      if (unopened_.insert({row->name, row->updated_at}).second)
        log(LogLevel::Error, "fleet", name,
            c.error().message +
                "; handed back for a worker "
                "whose key opens it");
      sealed_wrong.push_back(name);
      continue;
    }
    next.connections.push_back(std::move(*c));
  }
  auto r = gateway_.reload(std::move(next), std::chrono::seconds(10));
  if (!r) return fail(r.error());
  polling_ = names;
  if (!sealed_wrong.empty()) {
    std::erase_if(polling_, [&](const auto& n) {
      return std::find(sealed_wrong.begin(), sealed_wrong.end(), n) != sealed_wrong.end();
    });
    // Held but not polled would keep them from a worker that can open them: handed back.
    (void)fleet_.release(id_, sealed_wrong);
    std::erase_if(held_, [&](const auto& l) {
      return std::find(sealed_wrong.begin(), sealed_wrong.end(), l.connection) !=
             sealed_wrong.end();
    });
  }
  return *r == "no connection changed" ? std::string() : *r;
}

Result<std::string> FleetWorker::reload(Config next) {
  std::lock_guard lock(mutex_);
  auto rows = fleet_.connections();
  if (!rows) return fail(rows.error());
  auto before = std::move(base_);
  base_ = std::move(next);
  polling_.clear();  // applied even when the held connections stay the same
  auto r = apply(*rows);
  if (!r) base_ = std::move(before);
  return r;
}

Result<std::size_t> FleetWorker::run_commands() {
  std::vector<std::string> mine;
  {
    std::lock_guard lock(mutex_);
    mine = polling_;
  }
  auto taken = fleet_.take_commands(id_, mine);
  if (!taken) return fail(taken.error());
  // All at once (commands for different devices do not wait on each other; the gateway refuses
  // a second one for a device while the first runs), then each outcome recorded. Settings reads
  // go alongside: a read of the device when asked to refresh, else the settings as last read.
  std::vector<std::future<Result<CommandRecord>>> running;
  std::vector<std::future<Result<DeviceSettings>>> reading;
  for (const auto& c : *taken) {
    if (c.settings_read)
      reading.push_back(boost::asio::co_spawn(
          io_, gateway_.settings(c.command.device, c.command.value != 0), boost::asio::use_future));
    else
      running.push_back(
          boost::asio::co_spawn(io_, gateway_.execute(c.command), boost::asio::use_future));
  }
  std::size_t next_read = 0, next_run = 0;
  for (const auto& c : *taken) {
    if (c.settings_read) {
      Result<DeviceSettings> s = fail(ErrorKind::Internal, "the read ended without an answer");
      try {
        s = reading[next_read++].get();
      } catch (const std::exception& e) {
        s = fail(ErrorKind::Internal, std::string("the read failed: ") + e.what());
      }
      auto done = fleet_.finish_settings_read(
          c.id, s ? Result<std::string>(encode_settings(*s)) : fail(s.error()));
      if (!done)
        log(LogLevel::Warning, "fleet", c.command.device,
            "the settings read for fleet request " + std::to_string(c.id) +
                " could not be recorded: " + done.error().message);
      continue;
    }
    auto& outcome = running[next_run++];
    Result<CommandRecord> r = fail(ErrorKind::Internal, "the command ended without an outcome");
    try {
      r = outcome.get();
    } catch (const std::exception& e) {
      r = fail(ErrorKind::Internal, std::string("the command failed: ") + e.what());
    }
    auto what = std::string(to_string(c.command.type)) + " from " + c.command.requested_by +
                " (fleet command " + std::to_string(c.id) + ")";
    view_.count([&](FleetWorkerStats& s) { ++(r ? s.commands_run : s.commands_refused); });
    if (r)
      log(LogLevel::Info, "fleet", c.command.device, what + ": " + r->status);
    else
      log(LogLevel::Warning, "fleet", c.command.device, what + " refused: " + r.error().message);
    auto done = r ? fleet_.finish_command(c.id, r->id, std::nullopt)
                  : fleet_.finish_command(c.id, std::nullopt, r.error());
    if (!done)
      log(LogLevel::Warning, "fleet", c.command.device,
          "the outcome of fleet command " + std::to_string(c.id) +
              " could not be recorded: " + done.error().message);
  }
  return taken->size();
}

void FleetWorker::command_loop() {
  std::string failing;  // logged once, not every second
  auto looked = std::chrono::steady_clock::time_point{};
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    // Woken by a NOTIFY at once; looked at every few seconds anyway, for commands queued for a
    // connection before this worker took it.
    auto woke = fleet_.wait_for_commands(Millis(1000));
    Result<std::size_t> r = std::size_t{0};
    if (!woke)
      r = fail(woke.error());
    else if (*woke || std::chrono::steady_clock::now() - looked > std::chrono::seconds(5)) {
      looked = std::chrono::steady_clock::now();
      r = run_commands();
    }
    if (!r) {
      if (r.error().message != failing)
        log(LogLevel::Warning, "fleet", "", "queued commands: " + r.error().message);
      failing = r.error().message;
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
    } else {
      failing.clear();
    }
  }
}

Result<void> FleetWorker::publish_status() {
  std::vector<std::string> mine;
  {
    std::lock_guard lock(mutex_);
    mine = polling_;
  }
  std::map<std::string, ConnectionStatus> own;
  for (const auto& name : mine) own[name];
  for (auto& h : gateway_.health())
    if (auto it = own.find(h.name); it != own.end()) it->second.health = std::move(h);
  for (auto& live : gateway_.live())
    if (auto it = own.find(live.device.connection); it != own.end()) {
      auto caps = gateway_.capabilities(live.device.id);
      it->second.devices.push_back({std::move(live), caps.value_or(Capabilities{})});
    }
  // Written: the documents that changed (a poll, a new state), and all of them once a minute
  // (a row the lease check skipped is written again).
  auto now = std::chrono::steady_clock::now();
  const bool all = now - all_written_at_ > std::chrono::seconds(60);
  if (all) all_written_at_ = now;
  std::vector<std::pair<std::string, std::string>> rows;
  std::map<std::string, std::size_t> written;
  for (const auto& [name, st] : own) {
    if (st.health.name.empty()) continue;
    auto doc = encode_status(st);
    auto hash = std::hash<std::string>{}(doc);
    written[name] = hash;
    if (auto it = written_.find(name); all || it == written_.end() || it->second != hash)
      rows.emplace_back(name, std::move(doc));
  }
  if (auto r = status_fleet_.put_status(id_, rows); !r) return r;
  written_ = std::move(written);  // connections no longer polled are forgotten

  // Read: every live row, with the documents written since the last read (less a margin for a
  // write whose time was taken just before a slower commit); the others as they were read.
  std::optional<TimePoint> since;
  if (read_up_to_) since = *read_up_to_ - std::chrono::seconds(1);
  auto rows_read = status_fleet_.statuses(since);
  if (!rows_read) return fail(rows_read.error());
  auto connections = status_fleet_.connections();
  if (!connections) return fail(connections.error());
  auto before = view_.all();
  std::map<std::string, FleetView::Entry> seen;
  std::string unreadable;
  bool incomplete = false;
  std::optional<TimePoint> newest;
  for (auto& row : *rows_read) {
    if (!newest || row.updated_at > *newest) newest = row.updated_at;
    if (row.status.empty()) {
      // Unchanged since the last read: kept, if this worker has it from the same holder.
      auto it = before->find(row.connection);
      if (it != before->end() && it->second.worker == row.worker) {
        seen.emplace(row.connection, it->second);
        continue;
      }
      incomplete = true;  // a row not read before (its lease came back): all of them next
      continue;
    }
    auto st = decode_status(row.status, row.connection);
    if (!st) {
      unreadable = st.error().message;  // one worker's bug must not hide the others
      continue;
    }
    seen[row.connection] = {std::move(*st), row.worker, row.api, row.updated_at};
  }
  if (incomplete || !unreadable.empty())
    read_up_to_.reset();
  else if (newest)
    read_up_to_ = newest;
  view_.update(std::move(seen), std::move(*connections));
  view_.count([](FleetWorkerStats& s) {
    s.view_read_at = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  });
  if (!unreadable.empty()) return fail(ErrorKind::Protocol, unreadable);
  return {};
}

void FleetWorker::status_loop() {
  std::string failing;
  for (;;) {
    auto r = publish_status();
    if (!r && r.error().message != failing)
      log(LogLevel::Warning, "fleet", "", "fleet status: " + r.error().message);
    failing = r ? std::string() : r.error().message;
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, std::chrono::seconds(2), [&] { return stopping_; })) break;
  }
}

void FleetWorker::start() {
  commands_ = std::thread([this] { command_loop(); });
  status_ = std::thread([this] { status_loop(); });
  thread_ = std::thread([this] {
    std::string failing;  // the last round's error: logged once, not every round
    for (;;) {
      auto r = step();
      if (!r) {
        if (r.error().message != failing) log(LogLevel::Warning, "fleet", "", r.error().message);
        failing = r.error().message;
      } else {
        if (!failing.empty())
          log(LogLevel::Info, "fleet", "", "the fleet's database answers again");
        failing.clear();
        if (!r->empty()) log(LogLevel::Info, "fleet", "", *r);
      }
      std::unique_lock lock(mutex_);
      if (cv_.wait_for(lock, ttl_ / 3, [&] { return stopping_; })) break;
    }
  });
}

void FleetWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable() && !commands_.joinable() && !status_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (commands_.joinable()) commands_.join();  // within a second: its wait ends by then
  if (status_.joinable()) status_.join();
  std::lock_guard lock(mutex_);
  if (held_.empty() && draining_.empty()) {
    (void)fleet_.leave(id_);
    return;
  }
  // Those still finishing a call go too: the gateway's close (after this) ends the process's
  // calls within its budget, and a worker stopping does not keep leases it will not renew.
  auto names = connections_of(held_);
  auto draining = connections_of(draining_);
  names.insert(names.end(), draining.begin(), draining.end());
  held_.clear();
  draining_.clear();
  // Command leases go on with the next holder; with no other worker alive there is none, and
  // the devices get their own mode back rather than a setpoint nobody would end.
  auto alive = fleet_.workers(ttl_);
  if (alive &&
      std::none_of(alive->begin(), alive->end(), [&](const auto& w) { return w.id != id_; })) {
    pass_on_ = false;
    passing_on_.clear();
  }
  (void)apply({});  // the gateway lets go of them first
  if (auto r = fleet_.release(id_, names); r)
    log(LogLevel::Info, "fleet", "", "handed back " + names_of(names));
  (void)fleet_.leave(id_);  // the others' next round counts one worker fewer
}

}  // namespace sb::engine
