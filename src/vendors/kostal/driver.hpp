// The KOSTAL PLENTICORE plus / PIKO IQ driver: discovery, polling, settings-based controls
// read back through POST /settings, and history from logdata/download.
#pragma once

#include "core/registry.hpp"

namespace sb::kostal {

/// Connection options (config `options:`):
///   password        the plant owner's password, or the master key when role is master
///   role            "user" (plant owner, default) or "master" (installer)
///   service_code    the installer's service code (role master only)
///   verify_timeout  how long a written setting is read back before "unverified" (10 s)
DriverRegistry::Entry registry_entry();

}  // namespace sb::kostal
