#include "engine/estimates.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include "core/metric.hpp"
#include "net/blocking.hpp"

namespace sb::engine {

namespace asio = boost::asio;

bool Integral::add(TimePoint t, double watts, Millis max_gap) {
  bool added = false;
  if (last_time && t > *last_time && t - *last_time <= max_gap) {
    double hours = std::chrono::duration<double, std::ratio<3600>>(t - *last_time).count();
    total_wh += (last_w + watts) / 2 * hours;
    added = true;
  }
  if (!last_time || t >= *last_time) {
    last_time = t;
    last_w = watts;
  }
  return added;
}

std::span<const PowerToEnergy> power_to_energy() {
  static constexpr std::array kTable = {
      PowerToEnergy{metric::kPvPower, metric::kEnergyPvYield, ""},
      PowerToEnergy{metric::kLoadPower, metric::kEnergyLoad, ""},
      PowerToEnergy{metric::kGridPower, metric::kEnergyGridImport, metric::kEnergyGridExport},
      PowerToEnergy{metric::kBatteryPower, metric::kEnergyBatteryDischarge,
                    metric::kEnergyBatteryCharge},
      PowerToEnergy{metric::kEvPower, metric::kEnergyEvCharge, ""},
  };
  return kTable;
}

struct EnergyEstimator::Impl : std::enable_shared_from_this<Impl> {
  store::Store& store;
  asio::thread_pool& blocking;
  std::map<std::string, Integral> counters;  // device \x1f counter metric
  std::set<std::string> reported;            // counters the device reports itself

  Impl(store::Store& s, asio::thread_pool& b) : store(s), blocking(b) {}

  static std::string key_of(const std::string& device, std::string_view metric) {
    return device + '\x1f' + std::string(metric);
  }

  // The counter's state, its total from the store the first time (sunbridge restarted);
  // nullptr for a counter the device reports itself (its newest stored value is not an
  // estimate).
  asio::awaitable<Integral*> counter(const std::string& device, std::string_view metric,
                                     TimePoint t) {
    auto self = shared_from_this();
    auto key = key_of(device, metric);
    if (reported.contains(key)) co_return nullptr;
    if (auto it = counters.find(key); it != counters.end()) co_return &it->second;
    auto op = net::run_blocking(blocking, [this, device, m = std::string(metric), t] {
      return store.sample_at_or_before(device, m, t);
    });
    auto last = co_await std::move(op);
    if (last && *last && (*last)->quality != Quality::Estimated) {
      reported.insert(key);
      co_return nullptr;
    }
    Integral i;
    if (last && *last) i.total_wh = (*last)->value;
    co_return &(counters[key] = i);
  }

  asio::awaitable<void> add(DeviceInfo device, std::vector<Sample>* samples, Millis max_gap) {
    auto self = shared_from_this();
    auto measured = [&](std::string_view counter) {
      return std::any_of(samples->begin(), samples->end(), [&](const Sample& s) {
        return s.metric == counter && s.quality != Quality::Estimated;
      });
    };
    // A counter in this poll is the device's own from now on.
    auto own = [&](std::string_view counter) {
      if (counter.empty()) return true;
      if (!measured(counter)) return false;
      auto key = key_of(device.id, counter);
      reported.insert(key);
      counters.erase(key);
      return true;
    };
    std::vector<Sample> out;
    for (const auto& map : power_to_energy()) {
      bool pos = !own(map.positive);
      bool neg = !own(map.negative);
      if (!pos && !neg) continue;
      std::vector<const Sample*> powers;
      for (const auto& s : *samples)
        if (s.metric == map.power) powers.push_back(&s);
      if (powers.empty()) continue;
      std::sort(powers.begin(), powers.end(),
                [](const Sample* a, const Sample* b) { return a->time < b->time; });
      Integral* up = nullptr;
      Integral* down = nullptr;
      if (pos) {
        auto op = counter(device.id, map.positive, powers.front()->time);
        up = co_await std::move(op);
      }
      if (neg) {
        auto op = counter(device.id, map.negative, powers.front()->time);
        down = co_await std::move(op);
      }
      for (const auto* p : powers) {
        if (up && up->add(p->time, std::max(0.0, p->value), max_gap))
          out.push_back(
              {device.id, std::string(map.positive), p->time, up->total_wh, Quality::Estimated});
        if (down && down->add(p->time, std::max(0.0, -p->value), max_gap))
          out.push_back(
              {device.id, std::string(map.negative), p->time, down->total_wh, Quality::Estimated});
      }
    }
    samples->insert(samples->end(), out.begin(), out.end());
  }
};

EnergyEstimator::EnergyEstimator(store::Store& store, asio::thread_pool& blocking)
    : impl_(std::make_shared<Impl>(store, blocking)) {}

asio::awaitable<void> EnergyEstimator::add(const DeviceInfo& device, std::vector<Sample>& samples,
                                           Millis max_gap) {
  auto op = impl_->add(device, &samples, max_gap);
  co_await std::move(op);
}

}  // namespace sb::engine
