#include "engine/estimates.hpp"

#include <algorithm>
#include <array>
#include <cmath>

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

namespace {

constexpr std::array kPowerToEnergy = {
    PowerToEnergy{metric::kPvPower, metric::kEnergyPvYield, ""},
    PowerToEnergy{metric::kLoadPower, metric::kEnergyLoad, ""},
    PowerToEnergy{metric::kGridPower, metric::kEnergyGridImport, metric::kEnergyGridExport},
    PowerToEnergy{metric::kBatteryPower, metric::kEnergyBatteryDischarge,
                  metric::kEnergyBatteryCharge},
    PowerToEnergy{metric::kEvPower, metric::kEnergyEvCharge, ""},
};

// The table's metrics as names, made once: a poll's samples are matched against them by
// pointer, not by text (5 rows, 3 names each, against every sample of every poll).
struct RowNames {
  Name power, positive, negative;
};
const std::array<RowNames, kPowerToEnergy.size()>& row_names() {
  static const auto names = [] {
    std::array<RowNames, kPowerToEnergy.size()> n;
    for (std::size_t i = 0; i < n.size(); ++i)
      n[i] = {kPowerToEnergy[i].power, kPowerToEnergy[i].positive, kPowerToEnergy[i].negative};
    return n;
  }();
  return names;
}

}  // namespace

std::span<const PowerToEnergy> power_to_energy() {
  return kPowerToEnergy;
}

struct EnergyEstimator::Impl : std::enable_shared_from_this<Impl> {
  // One counter of a device: row i of the table's positive side is slot 2i, its negative 2i+1.
  struct Slot {
    enum class State : std::uint8_t { Unknown, Estimated, Reported };
    State state = State::Unknown;  // Reported: the device counts it itself, nothing estimated
    Integral integral;
  };
  using Slots = std::array<Slot, 2 * kPowerToEnergy.size()>;

  store::Store& store;
  asio::thread_pool& blocking;
  // By device id: one look-up a poll, and no key built for it (a connection's estimator is
  // used by its polls one after another, never by two at once).
  std::map<std::string, Slots, std::less<>> devices;
  std::vector<const Sample*> powers;  // a power's samples in this poll, reused poll after poll

  Impl(store::Store& s, asio::thread_pool& b) : store(s), blocking(b) {}

  // The counter's state, its total from the store the first time (sunbridge restarted);
  // nullptr for a counter the device reports itself (its newest stored value is not an
  // estimate).
  asio::awaitable<Integral*> counter(Slot& slot, const std::string& device, std::string_view metric,
                                     TimePoint t) {
    auto self = shared_from_this();
    if (slot.state == Slot::State::Reported) co_return nullptr;
    if (slot.state == Slot::State::Estimated) co_return &slot.integral;
    auto op = net::run_blocking(blocking, [this, device, m = std::string(metric), t] {
      return store.sample_at_or_before(device, m, t);
    });
    auto last = co_await std::move(op);
    if (last && *last && (*last)->quality != Quality::Estimated) {
      slot.state = Slot::State::Reported;
      co_return nullptr;
    }
    slot.integral = Integral{};
    if (last && *last) slot.integral.total_wh = (*last)->value;
    slot.state = Slot::State::Estimated;
    co_return &slot.integral;
  }

  // `dev`: the device's id, interned (a copy is a pointer; the caller's DeviceInfo need not
  // outlive the first await).
  asio::awaitable<void> add(Name dev, std::vector<Sample>* samples, Millis max_gap) {
    auto self = shared_from_this();
    // A map's nodes stay where they are across the awaits; the id is copied only when new.
    Slots& slots = devices.try_emplace(dev.str()).first->second;
    const auto& names = row_names();
    auto measured = [&](const Name& counter) {
      return std::any_of(samples->begin(), samples->end(), [&](const Sample& s) {
        return s.metric == counter && s.quality != Quality::Estimated;
      });
    };
    // A counter in this poll is the device's own from now on.
    auto own = [&](const Name& counter, Slot& slot) {
      if (counter.empty()) return true;
      if (!measured(counter)) return false;
      slot = Slot{Slot::State::Reported, {}};
      return true;
    };
    // The estimates go straight after the poll's samples: room for two a power sample, made
    // first, so that `powers` (pointers into the poll's samples) stays valid.
    std::size_t room = 0;
    for (const auto& s : *samples)
      for (const auto& n : names) room += s.metric == n.power ? 2 : 0;
    samples->reserve(samples->size() + room);
    const std::size_t polled = samples->size();
    for (std::size_t row = 0; row < kPowerToEnergy.size(); ++row) {
      const auto& map = kPowerToEnergy[row];
      const auto& name = names[row];
      Slot& positive = slots[2 * row];
      Slot& negative = slots[2 * row + 1];
      bool pos = !own(name.positive, positive);
      bool neg = !own(name.negative, negative);
      if (!pos && !neg) continue;
      powers.clear();
      for (std::size_t i = 0; i < polled; ++i)
        if ((*samples)[i].metric == name.power) powers.push_back(&(*samples)[i]);
      if (powers.empty()) continue;
      std::sort(powers.begin(), powers.end(),
                [](const Sample* a, const Sample* b) { return a->time < b->time; });
      const TimePoint first = powers.front()->time;
      // A counter whose state is known (every poll after a device's first) is taken without
      // starting a coroutine.
      auto known = [](Slot& slot) {
        return slot.state == Slot::State::Estimated ? &slot.integral : nullptr;
      };
      Integral* up = nullptr;
      Integral* down = nullptr;
      if (pos && positive.state != Slot::State::Unknown) {
        up = known(positive);
      } else if (pos) {
        auto op = counter(positive, dev, map.positive, first);
        up = co_await std::move(op);
      }
      if (neg && negative.state != Slot::State::Unknown) {
        down = known(negative);
      } else if (neg) {
        auto op = counter(negative, dev, map.negative, first);
        down = co_await std::move(op);
      }
      for (const auto* p : powers) {
        const TimePoint t = p->time;
        const double w = p->value;  // read before the pushes below
        if (up && up->add(t, std::max(0.0, w), max_gap))
          samples->push_back({dev, name.positive, t, up->total_wh, Quality::Estimated});
        if (down && down->add(t, std::max(0.0, -w), max_gap))
          samples->push_back({dev, name.negative, t, down->total_wh, Quality::Estimated});
      }
    }
  }
};

EnergyEstimator::EnergyEstimator(store::Store& store, asio::thread_pool& blocking)
    : impl_(std::make_shared<Impl>(store, blocking)) {}

asio::awaitable<void> EnergyEstimator::add(const DeviceInfo& device, std::vector<Sample>& samples,
                                           Millis max_gap) {
  auto op = impl_->add(device.id, &samples, max_gap);
  co_await std::move(op);
}

}  // namespace sb::engine
