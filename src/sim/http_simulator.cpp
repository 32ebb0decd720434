#include "sim/http_simulator.hpp"

#include "sim/http_faults.hpp"

namespace sb::sim {

HttpSimulator::HttpSimulator(boost::asio::any_io_executor executor, FaultSpec faults)
    : faults_(faults), http_(std::make_unique<HttpEndpoint>(std::move(executor))) {}

HttpSimulator::~HttpSimulator() {
  stop();
}

Result<void> HttpSimulator::listen(const std::string& host, std::uint16_t port) {
  return http_->listen(routes(), host, port);
}
std::uint16_t HttpSimulator::port() const {
  return http_->port();
}
std::string HttpSimulator::url() const {
  return http_->url();
}
void HttpSimulator::stop() {
  http_->stop();
}

}  // namespace sb::sim
