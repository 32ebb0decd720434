// Golden snapshots of what each vendor's driver makes of a recorded conversation: the seed
// sessions in fuzz/corpus/fuzz_<vendor>/ (recorded from the simulators by sb_fuzz_record, one per
// device variant) are replayed through the driver, and everything it reports (devices,
// capabilities, every mapped sample of two polls, history, settings, command outcomes) is held
// against tests/golden/<vendor>-<variant>.txt. A change in decoding or mapping shows as a diff
// here; where it is meant, write the snapshots again with SB_UPDATE_GOLDEN=1 and review them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/harness.hpp"
#include "vendors/enphase/driver.hpp"
#include "vendors/foxess/driver.hpp"
#include "vendors/kostal/driver.hpp"
#include "vendors/solarlog/driver.hpp"
#include "vendors/sonnen/driver.hpp"

namespace fs = std::filesystem;
using namespace sb;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Variant {
  std::string vendor, session;
  DriverRegistry::Entry (*entry)();
};

std::string session_log(const Variant& v) {
  auto config = fuzz::vendor_config(v.vendor);
  fuzz::SessionLog log;
  if (v.vendor == "enphase")
    fuzz::write_enphase_token_file("fuzz-access-token", "fuzz-refresh-token");
  fuzz::run_scripted(
      v.entry(), config,
      read(fs::path(SB_SOURCE_DIR) / "fuzz/corpus" / ("fuzz_" + v.vendor) / v.session), {}, &log);
  std::string out;
  for (auto line : log.lines) {
    // The Enphase token file is named after the process.
    if (auto at = line.find(config.options["token_file"]);
        !config.options["token_file"].empty() && at != std::string::npos)
      line.replace(at, config.options["token_file"].size(), "<token file>");
    out += line + "\n";
  }
  return out;
}

class Golden : public testing::TestWithParam<Variant> {};

TEST_P(Golden, TheDriverMapsTheRecordedSessionAsBefore) {
  const auto& v = GetParam();
  auto got = session_log(v);
  auto file = fs::path(SB_SOURCE_DIR) / "tests/golden" / (v.vendor + "-" + v.session + ".txt");
  if (std::getenv("SB_UPDATE_GOLDEN")) {
    std::ofstream(file, std::ios::binary) << got;
    GTEST_SKIP() << "wrote " << file;
  }
  ASSERT_TRUE(fs::exists(file)) << file << " is missing; write it with SB_UPDATE_GOLDEN=1";
  auto want = read(file);
  if (got == want) return;
  // The first line that differs, with its neighbours.
  std::istringstream a(want), b(got);
  std::string la, lb;
  int n = 0;
  while (true) {
    bool ha = bool(std::getline(a, la)), hb = bool(std::getline(b, lb));
    ++n;
    if (!ha && !hb) break;
    if (la != lb || ha != hb) {
      ADD_FAILURE() << file.filename() << " line " << n << ":\n  snapshot: " << (ha ? la : "(end)")
                    << "\n  now:      " << (hb ? lb : "(end)");
      break;
    }
  }
  EXPECT_EQ(got.size(), want.size());
}

INSTANTIATE_TEST_SUITE_P(
    Sessions, Golden,
    testing::Values(Variant{"sonnen", "session-v1", sonnen::registry_entry},
                    Variant{"sonnen", "session-v2", sonnen::registry_entry},
                    Variant{"kostal", "session", kostal::registry_entry},
                    Variant{"kostal", "session-2019", kostal::registry_entry},
                    Variant{"foxess", "session", foxess::registry_entry},
                    Variant{"foxess", "session-mixed", foxess::registry_entry},
                    Variant{"enphase", "session-partner", enphase::registry_entry},
                    Variant{"enphase", "session-watt", enphase::registry_entry},
                    Variant{"solarlog", "session-advanced", solarlog::registry_entry},
                    Variant{"solarlog", "session-basic", solarlog::registry_entry}),
    [](const testing::TestParamInfo<Variant>& i) {
      auto name = i.param.vendor + "_" + i.param.session;
      for (auto& c : name)
        if (c == '-') c = '_';
      return name;
    });

}  // namespace
