// The one place that knows both the Solar-Log WEB Enerest answers (wire.hpp) and sunbridge's
// model: which devices a plant shows as (the plant, and with the Advanced package its wallbox),
// the channels asked for, the 5-minute slots as samples, the KPIs and the portal's events. The
// driver (driver.cpp) decides what to fetch and when; it does not map.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/driver.hpp"
#include "core/model.hpp"
#include "vendors/solarlog/wire.hpp"

namespace sb::solarlog {

/// What a plant is made of, from its components, and the device ids it shows as.
struct Layout {
  std::string device, ev_device;  ///< ev_device empty: no wallbox shown
  bool battery = false;
  std::vector<std::int64_t> trackers;  ///< pv.string.{n}, n from 1 in this order
  std::int64_t ev = 0, irradiance = 0, module = 0;
};
/// `advanced`: the plant's package shows component values (the wallbox among them).
Layout layout_of(const std::string& device, const std::vector<ComponentInfo>& components,
                 bool advanced);

/// The plant and, when shown, its wallbox, as devices of `connection`.
std::vector<DeviceInfo> devices_of(const ConnectionConfig& connection, const PlantInfo& plant,
                                   const Layout& layout,
                                   const std::vector<ComponentInfo>& components);

/// The metrics a device of the plant reports.
std::vector<std::string> metrics_of(const DeviceInfo& device, const Layout& layout, bool advanced);

/// The plant's channels (with the battery's when it has one); the components' channels and ids.
std::vector<std::string> plant_channels(const Layout& layout);
struct ComponentChannels {
  std::vector<std::int64_t> components;
  std::vector<std::string> channels;
};
ComponentChannels component_channels(const Layout& layout);
/// The wallbox's channels.
std::vector<std::string> wallbox_channels();

/// A slot's values by "<component or 0>/<channel>", by slot end.
using Slots = std::map<TimePoint, std::map<std::string, double>>;
/// Puts a series' points (one every 5 minutes from `day_start`) into `slots`.
void add_series(Slots& slots, const Series& series, TimePoint day_start);
/// Canonical samples of the slots, of the plant's device and its wallbox.
std::vector<Sample> samples_of(const Layout& layout, const Slots& slots);

/// A day's KPIs as samples of the plant at `time` (the day's end).
void add_kpis(std::vector<Sample>& out, const Layout& layout, const Kpis& k, TimePoint time);

/// A portal event as a sunbridge event of the plant.
Event event_of(const Layout& layout, const PortalEvent& e);

}  // namespace sb::solarlog
