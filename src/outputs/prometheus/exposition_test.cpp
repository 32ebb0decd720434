// The exposition format as Prometheus reads it: names and units, labels, escaping, the
// histogram's cumulative buckets, error kinds, budgets, the store. (promtool checks the whole
// output of a running demo in tests/cli_e2e_test.cpp.)
#include "outputs/prometheus/exposition.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/name.hpp"
#include "core/test_gateway.hpp"

using namespace sb;

namespace {

using test::FakeGateway;

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST(Prometheus, CanonicalIdsGetBaseUnitsAndTheirIndexAsALabel) {
  auto pv = prometheus::name_of("pv.string.2.power");
  ASSERT_TRUE(pv);
  EXPECT_EQ(pv->family, "sunbridge_pv_string_power_watts");
  ASSERT_EQ(pv->labels.size(), 1u);
  EXPECT_EQ(pv->labels[0], (std::pair<std::string, std::string>{"string", "2"}));
  EXPECT_EQ(prometheus::name_of("grid.phase.3.voltage")->family,
            "sunbridge_grid_phase_voltage_volts");
  EXPECT_EQ(prometheus::name_of("grid.phase.3.voltage")->labels[0].first, "phase");
  EXPECT_EQ(prometheus::name_of("energy.grid_import")->family,
            "sunbridge_energy_grid_import_joules_total");
  EXPECT_EQ(prometheus::name_of("energy.grid_import")->kind, MetricKind::Counter);
  auto soc = prometheus::name_of("battery.soc");
  EXPECT_EQ(soc->family, "sunbridge_battery_soc_ratio");
  EXPECT_DOUBLE_EQ(soc->value_of(47), 0.47);
  EXPECT_DOUBLE_EQ(prometheus::name_of("energy.grid_import")->value_of(2), 7200);
  EXPECT_EQ(prometheus::name_of("battery.usable_capacity")->family,
            "sunbridge_battery_usable_capacity_joules");
  EXPECT_EQ(prometheus::name_of("battery.temperature")->family,
            "sunbridge_battery_temperature_celsius");
  EXPECT_EQ(prometheus::name_of("grid.frequency")->family, "sunbridge_grid_frequency_hertz");
  EXPECT_EQ(prometheus::name_of("device.state")->family, "sunbridge_device_state");
  EXPECT_FALSE(prometheus::name_of("vendor.foxess.batVolt"));
  EXPECT_FALSE(prometheus::name_of("pv.nonsense"));
  EXPECT_EQ(prometheus::escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(Prometheus, DevicesConnectionsBudgetsAndTheStoreAreRendered) {
  FakeGateway gw;
  TimePoint t;
  parse_iso8601("2026-06-21T10:00:00Z", t);
  DeviceLive d;
  d.device = {"fox:SN1", "home", "fox", "foxess", "inverter", "FoxESS", "H3", "SN1", ""};
  d.online = true;
  d.last_success = t;
  d.values = {
      {"pv.power", t, 4200},         {"pv.string.1.power", t, 2100},       {"battery.soc", t, 47},
      {"energy.pv_yield", t, 1.5e6}, {"vendor.foxess.inv\"Temp", t, 41.5}, {"device.online", t, 1}};
  gw.live_.push_back(d);
  ConnectionHealth h;
  h.name = "fox";
  h.vendor = "foxess";
  h.state = "ok";
  h.polls = 12;
  h.failures = 2;
  h.failures_by_kind = {{"transport", 2}};
  h.latency_counts[2] = 3;                        // (0.01, 0.025]
  h.latency_counts[kPollLatencyBucketCount] = 1;  // above 30 s
  h.latency_sum_s = 31.05;
  h.budget = CallBudget{300, 1440, t};
  h.last_success = t;
  gw.health_.push_back(h);
  store::StoreStats st;
  st.queue_depth = 7;
  st.samples_written = 1000;
  auto text = prometheus::render(gw, st);

  const std::string dev = R"(site="home",device="fox:SN1",vendor="foxess")";
  EXPECT_TRUE(has_line(text, "sunbridge_pv_power_watts{" + dev + "} 4200")) << text;
  EXPECT_TRUE(has_line(text, "sunbridge_pv_string_power_watts{" + dev + ",string=\"1\"} 2100"));
  EXPECT_TRUE(has_line(text, "sunbridge_battery_soc_ratio{" + dev + "} 0.47"));
  EXPECT_TRUE(has_line(text, "# TYPE sunbridge_energy_pv_yield_joules_total counter"));
  EXPECT_TRUE(has_line(text, "sunbridge_energy_pv_yield_joules_total{" + dev + "} 5400000000"));
  EXPECT_TRUE(has_line(text, "sunbridge_vendor_value{" + dev + ",field=\"inv\\\"Temp\"} 41.5"));
  EXPECT_TRUE(has_line(text, "sunbridge_device_up{" + dev + "} 1"));
  EXPECT_TRUE(
      has_line(text, "sunbridge_device_last_success_timestamp_seconds{" + dev + "} 1782036000"));
  EXPECT_EQ(text.find("sunbridge_device_online"), std::string::npos);
  const std::string conn = R"(connection="fox",vendor="foxess")";
  EXPECT_TRUE(has_line(text, "sunbridge_poll_duration_seconds_bucket{" + conn + ",le=\"0.01\"} 0"));
  EXPECT_TRUE(
      has_line(text, "sunbridge_poll_duration_seconds_bucket{" + conn + ",le=\"0.025\"} 3"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_duration_seconds_bucket{" + conn + ",le=\"30\"} 3"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_duration_seconds_bucket{" + conn + ",le=\"+Inf\"} 4"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_duration_seconds_count{" + conn + "} 4"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_duration_seconds_sum{" + conn + "} 31.05"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_errors_total{" + conn + ",kind=\"transport\"} 2"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_errors_total{" + conn + ",kind=\"auth\"} 0"));
  EXPECT_TRUE(has_line(text, "sunbridge_polls_total{" + conn + "} 12"));
  EXPECT_TRUE(has_line(text, "sunbridge_call_budget_remaining{" + conn + "} 1140"));
  EXPECT_TRUE(has_line(text, "sunbridge_call_budget_limit{" + conn + "} 1440"));
  EXPECT_TRUE(has_line(text, "sunbridge_store_queue_depth 7"));
  EXPECT_TRUE(has_line(text, "sunbridge_store_samples_written_total 1000"));
  // The names this process holds: at least the test's own device and metrics.
  auto names_at = text.find("\nsunbridge_interned_names ");
  ASSERT_NE(names_at, std::string::npos);
  auto names = std::stod(text.substr(names_at + 26));
  EXPECT_GE(names, 3);
  EXPECT_LE(names, static_cast<double>(interned_names()));
  // One HELP and TYPE per family, before its series.
  auto first = text.find("# TYPE sunbridge_poll_errors_total counter");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(text.find("# TYPE sunbridge_poll_errors_total", first + 1), std::string::npos);
  EXPECT_LT(first, text.find("sunbridge_poll_errors_total{"));
}

// A fleet's gateway: per connection only its state, last success and failures; its work per
// vendor; no device values. `auto` is that above 100 connections and every detail below.
TEST(Prometheus, VendorDetailKeepsPerConnectionSeriesToWhatAnOperatorActsOn) {
  FakeGateway gw;
  TimePoint t;
  parse_iso8601("2026-06-21T10:00:00Z", t);
  for (int i = 0; i < 3; ++i) {
    DeviceLive d;
    d.device = {"bat-" + std::to_string(i) + ":battery",
                "home",
                "bat-" + std::to_string(i),
                "sonnen",
                "battery",
                "sonnen",
                "eco",
                "",
                ""};
    d.online = true;
    d.values = {{"battery.soc", t, 50}};
    gw.live_.push_back(d);
    ConnectionHealth h;
    h.name = "bat-" + std::to_string(i);
    h.vendor = "sonnen";
    h.state = i == 2 ? "needs_credentials" : "ok";
    h.polls = 10;
    h.failures = i;
    h.failures_by_kind = {{"timeout", i}};
    h.latency_counts[1] = 10;  // (0.005, 0.01]
    h.latency_sum_s = 0.08;
    h.lateness_counts[0] = 9;
    h.polls_late = i;
    h.gaps_found = 1;
    h.last_success = t;
    gw.health_.push_back(h);
  }
  auto text = prometheus::render(gw, {}, std::nullopt, prometheus::Detail::Vendors);
  EXPECT_EQ(text.find("sunbridge_battery_soc_ratio"), std::string::npos) << text;
  EXPECT_EQ(text.find("sunbridge_device_up"), std::string::npos);
  EXPECT_EQ(text.find("sunbridge_poll_errors_total{connection="), std::string::npos);
  EXPECT_EQ(text.find("sunbridge_poll_duration_seconds_bucket{connection="), std::string::npos);
  const std::string c1 = R"(connection="bat-1",vendor="sonnen")";
  EXPECT_TRUE(has_line(text, "sunbridge_connection_up{" + c1 + "} 1")) << text;
  EXPECT_TRUE(has_line(text, "sunbridge_connection_failures_total{" + c1 + "} 1"));
  EXPECT_TRUE(
      has_line(text, "sunbridge_connection_last_success_timestamp_seconds{" + c1 + "} 1782036000"));
  EXPECT_TRUE(has_line(text, R"(sunbridge_connection_up{connection="bat-2",vendor="sonnen"} 0)"));
  // Needing credentials shows on its connection; the others have no such series.
  EXPECT_TRUE(has_line(
      text, R"(sunbridge_connection_needs_credentials{connection="bat-2",vendor="sonnen"} 1)"));
  EXPECT_EQ(text.find("sunbridge_connection_needs_credentials{" + c1), std::string::npos);
  const std::string v = R"(vendor="sonnen")";
  EXPECT_TRUE(has_line(text, "sunbridge_connections{" + v + ",state=\"ok\"} 2"));
  EXPECT_TRUE(has_line(text, "sunbridge_connections{" + v + ",state=\"needs_credentials\"} 1"));
  EXPECT_TRUE(has_line(text, "sunbridge_polls_total{" + v + "} 30"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_errors_total{" + v + ",kind=\"timeout\"} 3"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_errors_total{" + v + ",kind=\"auth\"} 0"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_duration_seconds_bucket{" + v + ",le=\"0.01\"} 30"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_duration_seconds_count{" + v + "} 30"));
  EXPECT_TRUE(has_line(text, "sunbridge_poll_lateness_seconds_bucket{" + v + ",le=\"0.01\"} 27"));
  EXPECT_TRUE(has_line(text, "sunbridge_polls_late_total{" + v + "} 3"));
  EXPECT_TRUE(has_line(text, "sunbridge_history_gaps_found_total{" + v + "} 3"));

  // Auto: every detail for a home, the vendor sums past 100 connections.
  EXPECT_TRUE(prometheus::per_device(prometheus::Detail::Auto, 100));
  EXPECT_FALSE(prometheus::per_device(prometheus::Detail::Auto, 101));
  EXPECT_TRUE(prometheus::per_device(prometheus::Detail::Devices, 10'000));
  EXPECT_FALSE(prometheus::per_device(prometheus::Detail::Vendors, 1));
  auto home = prometheus::render(gw, {});
  EXPECT_TRUE(has_line(
      home,
      R"(sunbridge_battery_soc_ratio{site="home",device="bat-0:battery",vendor="sonnen"} 0.5)"));
  EXPECT_TRUE(has_line(home, "sunbridge_poll_errors_total{" + c1 + ",kind=\"timeout\"} 1"));
  EXPECT_TRUE(has_line(home, "sunbridge_connection_needs_credentials{" + c1 + "} 0"));
  // The per-vendor families do not appear twice in either detail.
  for (const auto* out : {&text, &home}) {
    auto first = out->find("# TYPE sunbridge_polls_total counter");
    ASSERT_NE(first, std::string::npos);
    EXPECT_EQ(out->find("# TYPE sunbridge_polls_total", first + 1), std::string::npos);
  }
}

// The Grafana dashboard in docs/ asks only for series /metrics has, in PromQL that parses.
TEST(Prometheus, TheGrafanaDashboardsQueriesParseAndNameRenderedFamilies) {
  std::ifstream in("docs/grafana/sunbridge-dashboard.json");
  ASSERT_TRUE(in) << "run from the project root";
  std::stringstream text;
  text << in.rdbuf();
  auto dash = boost::json::parse(text.str()).as_object();
  std::vector<std::string> exprs;
  for (const auto& p : dash["panels"].as_array())
    for (const auto& t : p.as_object().at("targets").as_array())
      exprs.emplace_back(t.as_object().at("expr").as_string());
  ASSERT_GE(exprs.size(), 10u);

  // Every family a query names is one render() writes (for a device with every canonical
  // metric, a connection with a budget).
  FakeGateway gw;
  DeviceLive d;
  d.device = {"x:1", "home", "x", "x", "inverter", "", "", "1", ""};
  for (const auto& m : metric_catalogue())
    d.values.push_back({indexed_metric(m.id, 1), TimePoint{}, 1});
  gw.live_.push_back(d);
  ConnectionHealth h;
  h.name = "x";
  h.budget = CallBudget{1, 2, TimePoint{}};
  h.last_success = TimePoint{};
  gw.health_.push_back(h);
  auto rendered = prometheus::render(gw, {});
  std::regex family(R"(sunbridge_[a-z_]+)");
  for (const auto& e : exprs)
    for (std::sregex_iterator it(e.begin(), e.end(), family), end; it != end; ++it)
      EXPECT_TRUE(has_line(rendered, "# TYPE " + it->str() + " counter") ||
                  has_line(rendered, "# TYPE " + it->str() + " gauge") ||
                  (it->str().ends_with("_bucket") &&
                   has_line(rendered,
                            "# TYPE " + it->str().substr(0, it->str().size() - 7) + " histogram")))
          << it->str() << " in " << e;

  // And promtool parses each query (as a recording rule, the template variables as .*).
  auto dir = std::filesystem::temp_directory_path() / ("sb-grafana-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto rules = dir / "rules.yml";
  {
    std::ofstream out(rules);
    out << "groups:\n  - name: dashboard\n    rules:\n";
    for (std::size_t i = 0; i < exprs.size(); ++i) {
      auto e = std::regex_replace(exprs[i], std::regex(R"(\$(site|device))"), ".*");
      out << "      - record: dashboard:expr" << i << "\n        expr: '" << e << "'\n";
    }
  }
  auto cmd = "promtool check rules " + rules.string() + " > " + (dir / "out").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream log(dir / "out");
  std::stringstream msg;
  msg << log.rdbuf();
  EXPECT_EQ(rc, 0) << msg.str();
  EXPECT_NE(msg.str().find("SUCCESS: " + std::to_string(exprs.size()) + " rules found"),
            std::string::npos)
      << msg.str();
  std::filesystem::remove_all(dir);
}
