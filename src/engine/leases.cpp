#include "engine/leases.hpp"

#include <algorithm>

#include "net/blocking.hpp"
#include "net/json.hpp"

namespace sb::engine {

namespace {
bool among(const std::vector<DeviceInfo>& devices, const std::string& id) {
  return std::any_of(devices.begin(), devices.end(),
                     [&](const DeviceInfo& d) { return d.id == id; });
}
}  // namespace

std::string LeaseKeeper::text(const Lease& l) {
  return std::string(to_string(l.type)) + " " +
         (command_takes_argument(l.type) ? l.argument : net::number_text(l.value)) + " by " +
         l.requested_by + " until " + format_iso8601(l.until) + " (lease " + std::to_string(l.id) +
         ")";
}

std::optional<Lease> LeaseKeeper::held(const std::string& device) const {
  std::lock_guard lock(mutex_);
  if (auto it = leases_.find(device); it != leases_.end()) return it->second;
  return std::nullopt;
}

void LeaseKeeper::hold(const Lease& l) {
  std::lock_guard lock(mutex_);
  leases_[l.device] = l;
  kept_alive_[l.device] = l.started_at;
}

std::vector<Lease> LeaseKeeper::of(const std::vector<DeviceInfo>& devices) const {
  std::vector<Lease> out;
  std::lock_guard lock(mutex_);
  for (const auto& d : devices)
    if (auto it = leases_.find(d.id); it != leases_.end()) out.push_back(it->second);
  return out;
}

boost::asio::awaitable<bool> LeaseKeeper::end(Lease l, std::string state, std::string detail) {
  l.state = std::move(state);
  l.detail = std::move(detail);
  l.ended_at = deps_.clock.now();
  {
    std::lock_guard lock(mutex_);
    if (auto it = leases_.find(l.device); it != leases_.end() && it->second.id == l.id)
      leases_.erase(it);
    kept_alive_.erase(l.device);
  }
  auto op = net::run_blocking(deps_.blocking, [this, l] { return deps_.store.update_lease(l); });
  auto r = co_await std::move(op);
  deps_.host.record_event({l.device, *l.ended_at,
                           l.state == "released" ? Severity::Info : Severity::Warning,
                           "lease." + l.state, text(l) + ": " + l.detail});
  co_return bool(r);
}

boost::asio::awaitable<void> LeaseKeeper::tend(const std::vector<DeviceInfo>& devices,
                                               Driver& driver, Keepalive keepalive) {
  auto now = deps_.clock.now();
  std::vector<Lease> due, renew;
  {
    std::lock_guard lock(mutex_);
    for (const auto& d : devices) {
      auto it = leases_.find(d.id);
      if (it == leases_.end() || executor_->busy(d.id)) continue;
      if (now >= it->second.until) {
        due.push_back(it->second);
        continue;
      }
      auto keep = keepalive(d);
      if (keep.count() > 0 && now - kept_alive_[d.id] >= keep) renew.push_back(it->second);
    }
  }
  for (const auto& l : due) {
    auto op = executor_->hand_back(l, std::string("its time was up"));
    co_await std::move(op);
  }
  for (const auto& l : renew) {
    auto dev = std::find_if(devices.begin(), devices.end(),
                            [&](const DeviceInfo& d) { return d.id == l.device; });
    Command again{l.device,  l.type, l.value, std::nullopt, "lease:" + std::to_string(l.id),
                  l.argument};
    auto op = driver.apply(*dev, again);
    auto r = co_await std::move(op);
    {
      std::lock_guard lock(mutex_);
      kept_alive_[l.device] = deps_.clock.now();
    }
    if (!r || !r->verified)
      deps_.host.record_event(
          {l.device, deps_.clock.now(), Severity::Warning, "lease.keepalive_failed",
           text(l) + ": writing it again failed: " + (r ? r->detail : r.error().describe())});
  }
}

std::optional<Millis> LeaseKeeper::next_action(const std::vector<DeviceInfo>& devices,
                                               const Keepalive& keepalive) const {
  auto now = deps_.clock.now();
  std::optional<Millis> soonest;
  std::lock_guard lock(mutex_);
  for (const auto& d : devices) {
    auto it = leases_.find(d.id);
    if (it == leases_.end()) continue;
    Millis left = std::chrono::duration_cast<Millis>(it->second.until - now);
    auto keep = keepalive(d);
    if (keep.count() > 0)
      if (auto k = kept_alive_.find(d.id); k != kept_alive_.end())
        left = std::min(left, std::chrono::duration_cast<Millis>(k->second + keep - now));
    soonest = soonest ? std::min(*soonest, left) : left;
  }
  return soonest;
}

boost::asio::awaitable<void> LeaseKeeper::recover(const std::vector<DeviceInfo>& devices,
                                                  bool passed_on) {
  auto op = net::run_blocking(deps_.blocking, [this] { return deps_.store.leases(true, 10'000); });
  auto active = co_await std::move(op);
  if (!active) co_return;
  auto now = deps_.clock.now();
  for (const auto& l : *active) {
    if (!among(devices, l.device)) continue;
    if (passed_on && now < l.until) {
      hold(l);  // written again at once where the device forgets: the handover took a while
      deps_.host.record_event({l.device, now, Severity::Info, "lease.taken_over",
                               text(l) + ": taken over with its connection; handed back here "
                                         "when its time is up"});
      continue;
    }
    auto back = executor_->hand_back(
        l, std::string(passed_on ? "its time was up while its connection changed workers"
                                 : "found active at start: sunbridge stopped without handing "
                                   "it back"));
    co_await std::move(back);
  }
}

void LeaseKeeper::forget(const std::vector<DeviceInfo>& devices) {
  std::lock_guard lock(mutex_);
  for (const auto& d : devices) {
    leases_.erase(d.id);
    kept_alive_.erase(d.id);
  }
}

}  // namespace sb::engine
