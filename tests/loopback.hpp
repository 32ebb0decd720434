// What the cross-component tests share: a configuration of one site ("home", Berlin) with one
// connection to a simulator on 127.0.0.1.
#pragma once

#include "engine/config.hpp"

namespace sb::test {

inline ConnectionConfig loopback_connection(std::string name, std::string vendor,
                                            std::uint16_t port, Millis poll) {
  ConnectionConfig c;
  c.name = std::move(name);
  c.vendor = std::move(vendor);
  c.site = "home";
  c.host = "127.0.0.1";
  c.port = port;
  c.poll_interval = poll;
  return c;
}

inline engine::Config one_site_config(ConnectionConfig c) {
  engine::Config cfg;
  cfg.sites.push_back({"home", "Home", 52.52, 13.4, "Europe/Berlin"});
  cfg.connections.push_back(std::move(c));
  return cfg;
}

}  // namespace sb::test
