#include "core/registry.hpp"

#include <gtest/gtest.h>

using namespace sb;

namespace {
DriverRegistry::Entry entry(std::string name) {
  return {std::move(name),
          "test",
          0,
          {},
          [](const ConnectionConfig&, const DriverEnv&) -> Result<std::unique_ptr<Driver>> {
            return fail(ErrorKind::Internal, "not made in tests");
          }};
}
}  // namespace

TEST(DriverRegistry, UnknownVendorListsTheValidOnes) {
  DriverRegistry r;
  r.add(entry("sonnen"));
  r.add(entry("kostal"));
  EXPECT_EQ(r.check_vendor("sonen"), "unknown vendor 'sonen' (valid: sonnen, kostal)");
  EXPECT_EQ(r.check_vendor("sonnen"), "");
  ConnectionConfig c;
  c.vendor = "sonen";
  c.where = "site.yaml:7";
  // The factory is never reached for an unknown vendor, so no environment is needed.
  alignas(std::max_align_t) char storage[64] = {};
  const auto& env = *reinterpret_cast<const DriverEnv*>(storage);
  auto made = r.create(c, env);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(made.error().message, "site.yaml:7: unknown vendor 'sonen' (valid: sonnen, kostal)");
}

TEST(DriverRegistry, DuplicateNamesAreAProgrammerError) {
  DriverRegistry r;
  r.add(entry("sonnen"));
  EXPECT_THROW(r.add(entry("sonnen")), std::logic_error);
  EXPECT_EQ(r.names(), std::vector<std::string>{"sonnen"});
}
