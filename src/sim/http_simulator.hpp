// What every vendor simulator that serves HTTP has around its routes: an endpoint to listen on,
// its port and address, a stop that closes it and waits out the handlers in flight, the fault
// plan and the count of requests. A simulator derives from it, builds its routes in routes() and
// calls stop() in its own destructor (its handlers use its members).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "sim/faults.hpp"

namespace sb::net {
class Router;
}

namespace sb::sim {

class HttpEndpoint;

class HttpSimulator {
 public:
  HttpSimulator(const HttpSimulator&) = delete;
  HttpSimulator& operator=(const HttpSimulator&) = delete;
  virtual ~HttpSimulator();

  /// Binds and serves routes(); port 0 picks a free one.
  Result<void> listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  /// "http://127.0.0.1:8080"; empty before listen().
  std::string url() const;
  /// Stops accepting and waits (bounded) for the handlers in flight. Idempotent.
  void stop();
  void set_faults(FaultSpec faults) { faults_.set(faults); }
  /// Requests answered so far, faults and refusals included.
  std::uint64_t requests() const { return requests_.load(); }
  /// Calls refused because they went past one of the vendor's rate limits or quotas (FoxESS
  /// 40400, Enphase's and Solar-Log's 429): what a client that keeps to the vendor's budget
  /// never sees. Injected faults are not counted.
  std::uint64_t over_limit() const { return over_limit_.load(); }

 protected:
  HttpSimulator(boost::asio::any_io_executor executor, FaultSpec faults);
  virtual std::shared_ptr<net::Router> routes() = 0;

  FaultInjector faults_;
  std::unique_ptr<HttpEndpoint> http_;  // server and handlers in flight; stop() closes
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> over_limit_{0};
};

}  // namespace sb::sim
