// The wire targets (fuzz_<vendor>_wire): one client call per run, so that the fuzzer spends its
// time in the decoders and not in a whole driver session. The input's first byte picks the
// call (modulo their number); the rest is the vendor's answers in the script format of
// harness.hpp. A call makes what it needs first itself (a KOSTAL login, a Solar-Log token, a
// list to take an id from), and those answers come from the script too. The recorder
// (record_corpus.cpp) runs the same calls against the simulators for the seeds.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "net/http.hpp"
#include "net/http_client.hpp"

namespace sb::fuzz {

struct WireCall {
  std::string name;
  /// One call through the vendor's client on `http` to `endpoint` (the simulator's, or any for
  /// the scripted peer); results that decode are mapped as the driver would.
  std::function<boost::asio::awaitable<void>(net::HttpClient& http, const Clock& clock,
                                             net::Endpoint endpoint)>
      run;
};

/// kostal, foxess, solarlog or enphase; empty for another vendor.
const std::vector<WireCall>& wire_calls(std::string_view vendor);

/// The access token the Enphase calls send: any for the scripted peer; the recorder sets the
/// simulator's.
std::string& enphase_wire_token();

/// A wire target's run: the call the first byte picks, with the rest as the answers.
void run_wire(std::string_view vendor, std::string_view data);

}  // namespace sb::fuzz
