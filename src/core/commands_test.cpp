#include "core/commands.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace sb;

// Every command has one row, its name parses back to it (with underscores too), and the table
// says for each Text command how its argument is checked.
TEST(CommandCatalogue, OneRowPerCommandAndItsNameParsesBack) {
  std::set<int> types;
  std::set<std::string_view> names;
  for (const auto& s : command_catalogue()) {
    EXPECT_TRUE(types.insert(static_cast<int>(s.type)).second) << s.name;
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    EXPECT_EQ(parse_command_type(s.name), s.type);
    std::string underscored(s.name);
    for (auto& c : underscored) c = c == '-' ? '_' : c;
    EXPECT_EQ(parse_command_type(underscored), s.type);
    EXPECT_EQ(&command_spec(s.type), &s);
    EXPECT_FALSE(s.title.empty());
    EXPECT_FALSE(s.absent.empty());
    if (s.kind == ArgumentKind::Text) EXPECT_NE(s.check_text, nullptr) << s.name;
    if (s.kind == ArgumentKind::Number) EXPECT_GT(s.step, 0) << s.name;
    EXPECT_EQ(command_takes_argument(s.type),
              s.kind == ArgumentKind::Choice || s.kind == ArgumentKind::Text);
  }
  EXPECT_EQ(types.size(), std::size_t(static_cast<int>(CommandType::EvCharging) + 1));
  EXPECT_FALSE(parse_command_type("min-soc-"));
  EXPECT_EQ(command_type_names().substr(0, 31), "battery-power, min-soc, release");
}

Command cmd(CommandType t, double value, std::string argument = {},
            std::optional<std::chrono::seconds> duration = std::nullopt) {
  return {"dev:1", t, value, duration, "test", std::move(argument)};
}

TEST(CommandCatalogue, ACommandIsCheckedAgainstTheDevicesOwnLimits) {
  Capabilities caps;
  caps.commands = {{CommandType::BatteryPower, -3000, 5000, {}, 0},
                   {CommandType::MinSoc, 10, 90, {}, 0},
                   {CommandType::BatteryStrategy, 0, 0, {"auto", "manual"}, 0},
                   {CommandType::StormGuard, 0, 1, {}, 0},
                   {CommandType::TouSchedule, 0, 4000, {"charge"}, 2},
                   {CommandType::LoadControl, 0, 0, {"NC1"}, 0}};
  auto message = [&](const Command& c) {
    auto r = check_command(c, caps);
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(message(cmd(CommandType::BatteryPower, -3000)), "ok");
  EXPECT_EQ(message(cmd(CommandType::BatteryPower, 5001)),
            "battery-power 5001 W is outside dev:1's range -3000 W (charge) .. 5000 W (discharge)");
  EXPECT_EQ(message(cmd(CommandType::MinSoc, 9.5)),
            "min-soc 9.5 % is outside dev:1's range 10..90 %");
  EXPECT_EQ(message(cmd(CommandType::MinSoc, std::nan(""))),
            "min-soc nan % is outside dev:1's range 10..90 %");
  EXPECT_EQ(message(cmd(CommandType::BatteryStrategy, 0, "eco")),
            "battery-strategy 'eco' is not one of auto, manual");
  EXPECT_EQ(message(cmd(CommandType::StormGuard, 2)), "storm-guard takes 1 (on) or 0 (off)");
  EXPECT_EQ(message(cmd(CommandType::TouSchedule, 0, "01:00-02:00 charge power=4500")),
            "tou-schedule: power 4500 W is above dev:1's 4000 W");
  EXPECT_EQ(message(cmd(CommandType::TouSchedule, 0, "01:00-02:00 backup")),
            "tou-schedule: dev:1 cannot follow mode backup");
  EXPECT_EQ(message(cmd(CommandType::LoadControl, 0, "NC2 mode=Basic")),
            "load-control: dev:1 has no dry contact 'NC2' (it has NC1)");
  EXPECT_EQ(message(cmd(CommandType::ExportLimit, 100)), "dev:1 has no export limit");
  EXPECT_EQ(check_command(cmd(CommandType::ExportLimit, 100), caps).error().kind,
            ErrorKind::NotSupported);
  // Durations: only commands that can hold, and a setpoint only where control can be handed
  // back.
  EXPECT_EQ(message(cmd(CommandType::MinSoc, 20, "", std::chrono::seconds(60))), "ok");
  EXPECT_EQ(message(cmd(CommandType::StormGuard, 1, "", std::chrono::seconds(60))),
            "storm-guard takes no duration (only min-soc, min-soc-off-grid, battery-power, "
            "min-home-consumption, export-limit hold for a while)");
  EXPECT_NE(message(cmd(CommandType::BatteryPower, 100, "", std::chrono::seconds(60)))
                .find("cannot hand control back to its own mode"),
            std::string::npos);
  caps.commands.push_back({CommandType::Release, 0, 0, {}, 0});
  EXPECT_EQ(message(cmd(CommandType::BatteryPower, 100, "", std::chrono::seconds(60))), "ok");
}

TEST(CommandCatalogue, ALoadControlFormNamesTheDevicesOwnFirstContact) {
  EXPECT_EQ(form_hint(command_spec(CommandType::LoadControl),
                      {CommandType::LoadControl, 0, 0, {"NC2", "NC3"}, 0}),
            "NC2 mode=Scheduled start=09:00 end=16:00");
  EXPECT_EQ(form_hint(command_spec(CommandType::ChargeWindows),
                      {CommandType::ChargeWindows, 0, 0, {}, 2}),
            "02:00-05:00,13:00-15:00");
}

TEST(CommandCatalogue, AFormStartsFromZeroTheTopOrTheBottomOfItsRange) {
  EXPECT_EQ(form_start_value(command_spec(CommandType::BatteryPower),
                             {CommandType::BatteryPower, -3000, 3000, {}, 0}),
            0);
  EXPECT_EQ(form_start_value(command_spec(CommandType::ExportLimit),
                             {CommandType::ExportLimit, 0, 8000, {}, 0}),
            8000);
  EXPECT_EQ(
      form_start_value(command_spec(CommandType::MinSoc), {CommandType::MinSoc, 10, 100, {}, 0}),
      10);
}
