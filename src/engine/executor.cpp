#include "engine/executor.hpp"

#include <cstdlib>

#include "core/commands.hpp"
#include "engine/leases.hpp"
#include "net/blocking.hpp"
#include "net/json.hpp"

namespace sb::engine {

bool CommandExecutor::busy(const std::string& device) const {
  std::lock_guard lock(mutex_);
  return busy_.contains(device);
}

boost::asio::awaitable<Result<CommandRecord>> CommandExecutor::hand_back(Lease l, std::string why,
                                                                         std::string who) {
  Command back;
  back.device = l.device;
  back.requested_by = who.empty() ? "lease:" + std::to_string(l.id) : who;
  if (l.type == CommandType::BatteryPower) {
    back.type = CommandType::Release;
    back.argument = l.restore;
  } else {
    back.type = l.type;
    back.value = std::strtod(l.restore.c_str(), nullptr);
  }
  auto op = execute(back, &l);
  auto r = co_await std::move(op);
  bool ok = r && r->status == "verified";
  std::string state = ok ? "released" : "failed";
  std::string detail = ok ? why + "; handed back: " + r->detail
                          : why + "; handing back failed: " +
                                (r ? r->status + ": " + r->detail : r.error().describe());
  auto end = leases_.end(l, std::move(state), std::move(detail));
  (void)co_await std::move(end);
  co_return r;
}

boost::asio::awaitable<Result<CommandRecord>> CommandExecutor::execute(Command cmd,
                                                                       const Lease* ending) {
  auto blocking = [this](auto f) { return net::run_blocking(deps_.blocking, std::move(f)); };
  // A release while a lease holds ends the lease: the device gets back what the lease took,
  // a setpoint's mode or a setting's old value, whether or not it has a release of its own.
  if (!ending && cmd.type == CommandType::Release && !busy(cmd.device)) {
    if (auto held = leases_.held(cmd.device)) {
      std::string who = cmd.requested_by.empty() ? "unknown" : cmd.requested_by;
      auto op = hand_back(*held, "ended early by " + who, who);
      co_return co_await std::move(op);
    }
  }
  std::string known;
  auto target = deps_.host.target(cmd.device, known);
  if (!target)
    co_return fail(ErrorKind::NotFound, "unknown device '" + cmd.device + "'" +
                                            (known.empty() ? "" : " (known: " + known + ")"));
  const auto& dev = target->device;
  CommandRecord rec;
  rec.requested_at = deps_.clock.now();
  rec.requested_by = cmd.requested_by.empty() ? "unknown" : cmd.requested_by;
  rec.device = cmd.device;
  rec.type = cmd.type;
  rec.value = cmd.value;
  rec.argument = cmd.argument;
  if (cmd.duration) rec.duration_s = cmd.duration->count();
  auto valid = check_command(cmd, target->driver->capabilities(dev));
  auto held = ending ? std::nullopt : leases_.held(cmd.device);
  {
    std::lock_guard lock(mutex_);
    if (valid && busy_.contains(cmd.device))
      valid = fail(ErrorKind::Conflict, "a command for " + cmd.device +
                                            " is still running; try again when it has finished");
    if (valid && held)
      valid = fail(ErrorKind::Conflict, cmd.device + " is held by " + LeaseKeeper::text(*held) +
                                            "; send release to end it first");
    if (valid) busy_.insert(cmd.device);
  }
  if (!valid) {  // refused commands are audited too
    rec.status = "rejected";
    rec.detail = valid.error().message;
    rec.finished_at = deps_.clock.now();
    auto begin = blocking([this, rec] { return deps_.store.begin_command(rec); });
    auto id = co_await std::move(begin);
    if (id) {
      rec.id = *id;
      auto finish = blocking([this, rec] { return deps_.store.finish_command(rec); });
      (void)co_await std::move(finish);
    }
    co_return fail(valid.error());
  }
  rec.status = "pending";
  auto begin = blocking([this, rec] { return deps_.store.begin_command(rec); });
  auto id = co_await std::move(begin);
  if (!id) {
    std::lock_guard lock(mutex_);
    busy_.erase(cmd.device);
    co_return fail(with_context(id.error(), "command not audited, so not applied"));
  }
  rec.id = *id;
  auto outcome = co_await target->driver->apply(dev, cmd);
  rec.finished_at = deps_.clock.now();
  if (outcome) {
    rec.status = outcome->verified ? "verified" : "unverified";
    rec.before = outcome->before;
    rec.after = outcome->after;
    rec.detail = outcome->detail;
  } else {
    rec.status = "failed";
    rec.detail = outcome.error().describe();
  }
  // A command with a duration holds until then: a lease in the store (so a crash cannot lose
  // it) that the polling loop keeps alive and hands back.
  if (outcome && cmd.duration && !ending) {
    Lease l;
    l.command = rec.id;
    l.device = cmd.device;
    l.type = cmd.type;
    l.value = cmd.value;
    l.argument = cmd.argument;
    l.requested_by = rec.requested_by;
    l.started_at = *rec.finished_at;
    l.until = l.started_at + std::chrono::duration_cast<Millis>(*cmd.duration);
    bool restorable = true;
    if (cmd.type == CommandType::BatteryPower) {
      l.restore = outcome->hand_back;
    } else if (outcome->before) {
      l.restore = net::number_text(*outcome->before);  // every digit: read back from this text
    } else {
      restorable = false;
      rec.detail += "; not held: the previous value could not be read, so it could not be restored";
    }
    if (restorable) {
      auto add = blocking([this, l] { return deps_.store.add_lease(l); });
      auto lid = co_await std::move(add);
      if (lid) {
        l.id = *lid;
        leases_.hold(l);
        rec.detail += "; held until " + format_iso8601(l.until) + ", then handed back (lease " +
                      std::to_string(l.id) + ")";
      } else {
        rec.detail += "; not held: the lease could not be stored (" + lid.error().message + ")";
      }
    }
  }
  auto finish = blocking([this, rec] { return deps_.store.finish_command(rec); });
  auto fin = co_await std::move(finish);
  {
    std::lock_guard lock(mutex_);
    busy_.erase(cmd.device);
  }
  deps_.host.settings_changed(cmd.device);  // what the command changed is read anew
  deps_.host.record_event({cmd.device, *rec.finished_at,
                           outcome && outcome->verified ? Severity::Info : Severity::Warning,
                           "command." + rec.status,
                           std::string(to_string(cmd.type)) + " " + net::number_text(cmd.value) +
                               " by " + rec.requested_by + ": " + rec.detail});
  if (!outcome) co_return fail(outcome.error());
  if (!fin) co_return fail(fin.error());
  co_return rec;
}

}  // namespace sb::engine
