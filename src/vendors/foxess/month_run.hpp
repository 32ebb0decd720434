// A long run of a FoxESS account under the driver's quota planner, on a manual clock, against
// the simulator over real HTTP with the documented limits (1440 calls per inverter per day,
// queries 1/s and writes 1 per 2 s per interface): every inverter polled on the gateway's
// interval, a minimum-SoC command a day at 18:00 local with its read-back, a two-hour cloud
// outage (HTTP 503) backfilled from the history interface as the gateway does, and at the end
// every day's energy of every inverter checked against the cloud's own monthly report.
// The month simtest runs a few days of it; bench/foxess_month_bench runs the whole month and
// prints the figures docs/vendors/foxess.md quotes.
#pragma once

#include <string>
#include <vector>

#include "core/clock.hpp"

namespace sb::foxess {

struct MonthRunOptions {
  int plants = 4;
  int inverters_per_plant = 5;  ///< 20 inverters, every third without a battery
  int days = 30;                ///< local days from 2026-06-01 (Europe/Berlin, UTC+2)
  Millis poll{60'000};          ///< the gateway's poll interval for every inverter
  int outage_day = 9;           ///< 0-based day of the 11:00-13:00 local outage; -1: none
};

struct MonthRunReport {
  int inverters = 0, days = 0;
  long polls = 0, failed = 0, failed_in_outage = 0;
  long refused_by_cloud = 0;   ///< 40400 answers (rate or quota)
  long refused_by_budget = 0;  ///< polls the planner said no to (RateLimited)
  long cloud_calls = 0;        ///< every request the simulator answered
  int busiest_day_calls = 0, quietest_day_calls = 0, daily_quota = 0;
  double age_median_s = 0, age_p95_s = 0, age_max_s = 0;  ///< data age at each poll
  double refresh_median_s = 0, refresh_max_s = 0;         ///< between two batches
  int commands = 0, verified = 0;
  long backfill_rows = 0, backfill_rows_expected = 0;  ///< pv.power points over the outage
  int energy_days = 0, energy_days_expected = 0;       ///< inverter-days with both closings
  double worst_energy_diff_kwh = 0;                    ///< counters vs the monthly report
  std::vector<std::string> problems;                   ///< empty when the run is clean

  std::string summary() const;
};

/// Runs it; blocks for a while (a simulated day of 20 inverters at 60 s takes seconds).
MonthRunReport run_month(const MonthRunOptions& options);

}  // namespace sb::foxess
