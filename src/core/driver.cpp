#include "core/driver.hpp"

namespace sb {

asio::awaitable<Result<std::vector<Sample>>> Driver::history(const DeviceInfo& device, TimeRange) {
  co_return fail(ErrorKind::NotSupported, device.vendor + " offers no history");
}

asio::awaitable<Result<CommandOutcome>> Driver::apply(const DeviceInfo& device, const Command&) {
  co_return fail(ErrorKind::NotSupported, device.vendor + " accepts no commands");
}

asio::awaitable<Result<std::vector<Setting>>> Driver::settings(const DeviceInfo&) {
  co_return std::vector<Setting>{};
}

asio::awaitable<void> Driver::close() {
  co_return;
}

}  // namespace sb
