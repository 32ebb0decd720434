// libFuzzer target: MQTT command messages as a broker delivers them: the first line of the
// input is the topic, the rest the payload. The topic is matched against the command topics,
// the payload turned into a command for a battery (or refused, saying why), and a text
// command's argument read by its own parser (time-of-use schedule, charge windows, peak
// shaving, load control, weekly plan), which must give back what it formats.
#include <cstddef>
#include <cstdint>

#include "core/model.hpp"
#include "core/schedule.hpp"
#include "outputs/mqtt/discovery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const sb::MqttSettings settings = [] {
    sb::MqttSettings s;
    s.host = "127.0.0.1";
    return s;
  }();
  static const sb::DeviceInfo battery{"bat:1",  "home",   "bat", "sonnen", "battery",
                                      "sonnen", "eco 10", "1",   "1.14"};
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto cut = text.find('\n');
  auto topic = text.substr(0, cut);
  auto payload = cut == std::string_view::npos ? std::string_view{} : text.substr(cut + 1);
  auto parsed = sb::mqtt::parse_command_topic(settings, topic);
  auto type = parsed ? parsed->type : sb::CommandType::MinSoc;
  auto command = sb::mqtt::command_of(battery, type, payload);
  if (command && command->device != battery.id) __builtin_trap();
  if (!command && command.error().message.empty()) __builtin_trap();
  // Each parser accepts what it formats, and formats it the same way again.
  if (auto tou = sb::parse_tou_schedule(payload); tou) {
    auto again = sb::parse_tou_schedule(sb::format_tou_schedule(*tou));
    if (!again || sb::format_tou_schedule(*again) != sb::format_tou_schedule(*tou))
      __builtin_trap();
  }
  if (auto w = sb::parse_time_windows(payload); w) {
    auto again = sb::parse_time_windows(sb::format_time_windows(*w));
    if (!again || sb::format_time_windows(*again) != sb::format_time_windows(*w)) __builtin_trap();
  }
  if (auto p = sb::parse_peak_shaving(payload); p) {
    auto again = sb::parse_peak_shaving(sb::format_peak_shaving(*p));
    if (!again || sb::format_peak_shaving(*again) != sb::format_peak_shaving(*p)) __builtin_trap();
  }
  (void)sb::parse_load_control(payload);
  (void)sb::check_weekly_plan(payload);
  return 0;
}
