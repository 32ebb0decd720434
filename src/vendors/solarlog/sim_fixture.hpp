// The Solar-Log simulator on a loopback port with a manual clock, for the simulator, client and
// driver tests: 15 June 2026, 10:00 UTC (noon in the plants' zones).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "net/http_client.hpp"
#include "net/test_io.hpp"
#include "vendors/solarlog/simulator.hpp"

struct SolarLogFixture : ::testing::Test {
  sb::net::TestIo io;
  sb::ManualClock clock{std::chrono::time_point_cast<sb::Millis>(
      std::chrono::sys_days(std::chrono::year(2026) / 6 / 15) + std::chrono::hours(10))};
  sb::net::HttpClient http{io.executor()};
  std::unique_ptr<sb::solarlog::Simulator> sim;

  void SetUp() override { start({}); }
  void start(sb::solarlog::SimOptions o) {
    sim.reset();
    sim = std::make_unique<sb::solarlog::Simulator>(io.executor(), clock, std::move(o));
    ASSERT_TRUE(sim->listen("127.0.0.1", 0));
  }
};
