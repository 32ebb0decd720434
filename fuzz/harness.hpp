// What the vendor fuzz targets share: a vendor's answers as a script of HTTP responses, and the
// one session a driver goes through (discover, poll, history, settings, every command it takes,
// close) with the script standing in for the vendor. The corpus recorder (record_corpus.cpp)
// runs the same session against the simulators and writes what they answered as scripts, so a
// corpus entry replays a real conversation and the fuzzer mutates from there.
//
// Script format (text, so corpus files can be read and edited by hand):
//
//   @@ 200
//   Retry-After: 30
//
//   {"errno":0,"result":...}
//   @@ 429
//   ...
//
// A record starts with "@@ " and the HTTP status at the start of a line; header lines follow
// up to an empty line, then the body up to the newline before the next record. Status 0 is a
// transport failure, 1 a timeout. When the script runs out, every further request fails as a
// transport failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/driver.hpp"
#include "core/registry.hpp"
#include "net/http.hpp"
#include "net/http_client.hpp"

namespace sb::fuzz {

/// A path in the temp directory named for this process ("sunbridge-fuzz-STEM-PID.json"), the
/// file at it removed when the process ends: targets that write a token file per run left one
/// behind for every replay in `make test`. The same stem gives the same path.
const std::string& process_temp_file(std::string_view stem);

/// One scripted answer.
struct Answer {
  int status = 200;
  net::Headers headers;
  std::string body;
};

std::vector<Answer> parse_script(std::string_view data);
/// The record of one answer, as parse_script reads it back.
std::string script_record(int status, const net::Headers& headers, std::string_view body);

/// The moment every session starts at (2026-06-21 10:00 UTC): the simulators' clocks in the
/// recorder and the fuzzer's clock agree, so timestamps in requests and answers line up.
TimePoint session_start();

/// What a session saw, a line each: the devices found, the commands each takes, every sample of
/// every poll, the history's extent, the settings and each command's outcome. The golden tests
/// (tests/golden) hold it against a snapshot; the fuzzer and the recorder pass none.
struct SessionLog {
  std::vector<std::string> lines;
};

/// The session: discover, then for up to three devices capabilities, two polls, an hour of
/// history, settings and each command the device takes with a plausible value, then close.
/// Results are not judged (the fuzzer looks for crashes and undefined behaviour, the recorder
/// for answers), only written to `log` when one is given.
asio::awaitable<void> driver_session(Driver& driver, ManualClock& clock, SessionLog* log = nullptr);

/// Runs driver_session for `entry`'s driver made from `config` with `data` as the vendor's
/// answers: single-threaded, on a manual clock, sleeps advance the clock. `extra`, when given,
/// runs after the session with the same HTTP client (a vendor's own calls the driver does
/// not make, Enphase's live stream say); its requests continue the script.
using Extra = std::function<asio::awaitable<void>(net::HttpClient&, const Clock&)>;
void run_scripted(const DriverRegistry::Entry& entry, const ConnectionConfig& config,
                  std::string_view data, const Extra& extra = {}, SessionLog* log = nullptr);

/// Runs `call` alone (no driver) with `data` as the vendor's answers: the wire targets.
void run_client(std::string_view data, const Extra& call);

/// The scripted answers to the fuzzer's input as an HTTP client's fake peer.
Result<net::HttpResponse> scripted_answer(const std::vector<Answer>& script, std::size_t& next);

}  // namespace sb::fuzz

namespace sb::fuzz {

/// The connection each vendor target runs (and the recorder records) with: host 127.0.0.1,
/// port 0 (the recorder sets its simulator's), the simulators' default credentials. Enphase's
/// token file is written afresh by write_enphase_token_file() before each run, since a refresh
/// rewrites it.
ConnectionConfig vendor_config(std::string_view vendor);
/// Writes the Enphase token file the config names (tokens expiring four minutes after
/// session_start, so the driver refreshes first and the token answer is fuzzed too).
void write_enphase_token_file(const std::string& access, const std::string& refresh);

/// The Enphase client's calls the driver does not make (events, alarms, meters, lifetime
/// series, telemetry of every kind, EV charger, the live stream): every wire type of the API.
asio::awaitable<void> enphase_extra(net::HttpClient& http, const Clock& clock, net::Endpoint cloud,
                                    std::string access_token);

}  // namespace sb::fuzz
