// Test support: a GatewayApi that answers with what a test puts in it (sites, live values,
// health), for the outputs' tests (Prometheus, the fleet page's rows). Commands and settings
// are refused.
#pragma once

#include "core/gateway_api.hpp"

namespace sb::test {

class FakeGateway final : public GatewayApi {
 public:
  std::vector<Site> sites() const override { return sites_; }
  std::vector<DeviceInfo> devices() const override { return {}; }
  std::optional<DeviceInfo> device(const std::string&) const override { return std::nullopt; }
  std::optional<Capabilities> capabilities(const std::string&) const override {
    return std::nullopt;
  }
  std::vector<DeviceLive> live() const override { return live_; }
  std::vector<ConnectionHealth> health() const override { return health_; }
  boost::asio::awaitable<Result<DeviceSettings>> settings(std::string, bool) override {
    co_return fail(ErrorKind::NotSupported, "no");
  }
  boost::asio::awaitable<Result<CommandRecord>> execute(Command) override {
    co_return fail(ErrorKind::NotSupported, "no");
  }
  std::vector<Site> sites_{{"home", "Home"}};
  std::vector<DeviceLive> live_;
  std::vector<ConnectionHealth> health_;
};

}  // namespace sb::test
