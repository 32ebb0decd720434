// sb_fuzz_record: writes the vendor fuzz targets' seed corpora. Each vendor's simulator runs on
// 127.0.0.1 on the fuzzers' manual clock; the driver goes through the same session the fuzz
// target runs (fuzz/harness.hpp) over real HTTP, and every answer is written, in order, as a
// script: fuzz/corpus/fuzz_<vendor>/<variant>. Random numbers follow a fixed stream, so a
// recorded KOSTAL login replays byte for byte in the fuzzer.
//
//   sb_fuzz_record fuzz/corpus
#include <strings.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "fuzz/harness.hpp"
#include "fuzz/wire.hpp"
#include "net/crypto.hpp"
#include "net/driver_env.hpp"
#include "net/token_file.hpp"
#include "sim/site.hpp"
#include "vendors/enphase/driver.hpp"
#include "vendors/enphase/simulator.hpp"
#include "vendors/foxess/driver.hpp"
#include "vendors/foxess/simulator.hpp"
#include "vendors/kostal/driver.hpp"
#include "vendors/kostal/scram.hpp"
#include "vendors/kostal/simulator.hpp"
#include "vendors/solarlog/driver.hpp"
#include "vendors/solarlog/simulator.hpp"
#include "vendors/sonnen/driver.hpp"
#include "vendors/sonnen/simulator.hpp"

namespace {

using namespace sb;
namespace fs = std::filesystem;

// Headers that say nothing to a client's decoder, or would be wrong once the body mutates.
bool kept(const std::string& name) {
  for (const char* skip :
       {"Date", "Server", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding"})
    if (strcasecmp(name.c_str(), skip) == 0) return false;
  return true;
}

// An HTTP client's options that write every answer it gets to `script`, counted in `requests`.
net::HttpClientOptions recording(std::string& script, int& requests) {
  net::HttpClientOptions options;
  options.on_exchange = [&script, &requests](const net::HttpRequest&,
                                             const Result<net::HttpResponse>& r) {
    ++requests;
    if (!r) {
      script += fuzz::script_record(r.error().kind == ErrorKind::Timeout ? 1 : 0, {}, "");
      return;
    }
    net::Headers headers;
    for (const auto& h : r->headers)
      if (kept(h.first)) headers.push_back(h);
    script += fuzz::script_record(r->status, headers, r->body);
  };
  return options;
}

// One session of `entry`'s driver against `sim` (already listening), written to `file`.
template <typename Sim>
void record(const fs::path& file, asio::io_context& io, ManualClock& clock, Sim& sim,
            const DriverRegistry::Entry& entry, ConnectionConfig config,
            const fuzz::Extra& extra = {}) {
  crypto::use_fixed_random_for_fuzzing(1);
  config.port = sim.port();
  std::string script;
  int requests = 0;
  net::HttpClient http{io.get_executor(), recording(script, requests)};
  net::ManualSleeper sleeper{clock};
  DriverEnv env{io.get_executor(), clock, http, sleeper, nullptr};
  auto made = entry.factory(config, env);
  if (!made) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(), made.error().message.c_str());
    std::exit(1);
  }
  auto driver = std::move(*made);
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await fuzz::driver_session(*driver, clock);
        if (extra) co_await extra(http, clock);
      },
      [&](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        done = true;
      });
  while (!done) io.run_one();
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << script;
  std::printf("%-48s %4d answers, %7zu bytes\n", file.c_str(), requests, script.size());
}

// Every wire call of `vendor` against `sim`, each written as its selector byte and the answers
// it got: fuzz/corpus/fuzz_<vendor>_wire/<NN>-<call>.
void record_wire(const fs::path& dir, asio::io_context& io, ManualClock& clock, std::uint16_t port,
                 std::string_view vendor) {
  const auto& calls = fuzz::wire_calls(vendor);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    clock.advance(Millis(60'000));  // past the vendor's pacing of one interface
    crypto::use_fixed_random_for_fuzzing(1);
    std::string script(1, static_cast<char>(i));
    int requests = 0;
    net::HttpClient http{io.get_executor(), recording(script, requests)};
    bool done = false;
    asio::co_spawn(io, calls[i].run(http, clock, net::Endpoint{"127.0.0.1", port, false}),
                   [&](std::exception_ptr e) {
                     if (e) std::rethrow_exception(e);
                     done = true;
                   });
    while (!done) io.run_one();
    char name[8];
    std::snprintf(name, sizeof name, "%02zu-", i);
    auto file = dir / ("fuzz_" + std::string(vendor) + "_wire") / (name + calls[i].name);
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << script;
    std::printf("%-48s %4d answers, %7zu bytes\n", file.c_str(), requests, script.size());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sb_fuzz_record CORPUS_DIR (fuzz/corpus)\n");
    return 2;
  }
  const fs::path out = argv[1];
  auto listen = [](auto& sim) {
    if (auto l = sim.listen("127.0.0.1", 0); !l) {
      std::fprintf(stderr, "cannot listen on 127.0.0.1: %s\n", l.error().message.c_str());
      std::exit(1);
    }
  };
  {  // sonnen: API v2 with its token, and v1 (no token)
    asio::io_context io;
    ManualClock clock{fuzz::session_start()};
    sonnen::SimOptions o;
    o.token = fuzz::vendor_config("sonnen").options.at("token");
    sonnen::Simulator sim(io.get_executor(), clock, sim::SiteConfig{}, {}, o);
    listen(sim);
    record(out / "fuzz_sonnen" / "session-v2", io, clock, sim, sonnen::registry_entry(),
           fuzz::vendor_config("sonnen"));
    auto v1 = fuzz::vendor_config("sonnen");
    v1.options.erase("token");
    v1.options["api"] = "v1";
    record(out / "fuzz_sonnen" / "session-v1", io, clock, sim, sonnen::registry_entry(), v1);
  }
  for (bool empty_units : {false, true}) {  // KOSTAL: today's firmware and 2019's
    asio::io_context io;
    ManualClock clock{fuzz::session_start()};
    kostal::SimOptions o;
    o.rounds = 500;  // the fuzzer derives the keys on every run
    o.empty_units = empty_units;
    kostal::Simulator sim(io.get_executor(), clock, sim::SiteConfig{}, o);
    listen(sim);
    record(out / "fuzz_kostal" / (empty_units ? "session-2019" : "session"), io, clock, sim,
           kostal::registry_entry(), fuzz::vendor_config("kostal"));
  }
  {  // KOSTAL's client calls, each logging in first: with the fewest rounds a device may ask
     // for, so that a run spends its time in the decoders rather than in PBKDF2
    asio::io_context io;
    ManualClock clock{fuzz::session_start()};
    kostal::SimOptions o;
    o.rounds = kostal::kMinRounds;
    kostal::Simulator sim(io.get_executor(), clock, sim::SiteConfig{}, o);
    listen(sim);
    record_wire(out, io, clock, sim.port(), "kostal");
  }
  for (bool mixed : {false, true}) {  // FoxESS: one inverter, and an account of mixed models
    asio::io_context io;
    ManualClock clock{fuzz::session_start()};
    foxess::SimOptions o;
    o.plants = mixed ? foxess::make_account(1, 2, 7, true) : foxess::make_account(1, 1);
    foxess::Simulator sim(io.get_executor(), clock, o);
    listen(sim);
    record(out / "fuzz_foxess" / (mixed ? "session-mixed" : "session"), io, clock, sim,
           foxess::registry_entry(), fuzz::vendor_config("foxess"));
    if (!mixed) record_wire(out, io, clock, sim.port(), "foxess");
  }
  for (bool advanced : {true, false}) {  // Solar-Log: the Advanced and the Basic package
    asio::io_context io;
    ManualClock clock{fuzz::session_start()};
    solarlog::Simulator sim(io.get_executor(), clock);
    listen(sim);
    auto c = fuzz::vendor_config("solarlog");
    if (!advanced)
      c.options["client_id"] = "portal-basic", c.options["client_secret"] = "portal-basic-secret";
    record(out / "fuzz_solarlog" / (advanced ? "session-advanced" : "session-basic"), io, clock,
           sim, solarlog::registry_entry(), c);
    if (advanced) record_wire(out, io, clock, sim.port(), "solarlog");
  }
  for (auto plan : {enphase::Plan::Partner, enphase::Plan::Watt}) {  // Enphase
    asio::io_context io;
    ManualClock clock{fuzz::session_start()};
    enphase::SimOptions o;
    o.plan = plan;
    enphase::Simulator sim(io.get_executor(), clock, o);
    listen(sim);
    auto tokens = sim.issue_tokens();
    fuzz::write_enphase_token_file(tokens.access_token, tokens.refresh_token);
    auto c = fuzz::vendor_config("enphase");
    c.options["plan"] = plan == enphase::Plan::Partner ? "partner" : "watt";
    net::Endpoint cloud{"127.0.0.1", sim.port(), false};
    std::string access = tokens.access_token;
    record(out / "fuzz_enphase" /
               (plan == enphase::Plan::Partner ? "session-partner" : "session-watt"),
           io, clock, sim, enphase::registry_entry(), c,
           [&](net::HttpClient& http, const Clock& clock) -> asio::awaitable<void> {
             // The driver has refreshed by now: the file holds the access token to use.
             auto file = net::load_token_file(c.options.at("token_file"));
             std::string token = file ? file->access_token : access;
             co_await fuzz::enphase_extra(http, clock, cloud, token);
           });
    if (plan == enphase::Plan::Partner) {
      fuzz::enphase_wire_token() = sim.issue_tokens().access_token;
      record_wire(out, io, clock, sim.port(), "enphase");
    }
  }
  return 0;
}
