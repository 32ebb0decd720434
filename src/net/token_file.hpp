// The OAuth tokens of a cloud connection on disk (FoxESS, Enphase: docs/vendors/*.md, OAuth):
// written by `sunbridge auth <vendor>`, read and rewritten by the driver each time it refreshes
// (both clouds rotate the refresh token, so the file must follow it). JSON, mode 0600, replaced atomically
// (a temporary file beside it, then rename) so a crash never leaves half a file.
#pragma once

#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace sb::net {

struct TokenFile {
  std::string client_id;  ///< the app the tokens belong to
  std::string access_token;
  std::string refresh_token;
  TimePoint expires_at;  ///< the access token's
};

/// NotFound when the file does not exist; InvalidArgument naming the file and the field when
/// it is not a token file.
Result<TokenFile> load_token_file(const std::string& path);
/// Writes it with mode 0600; an error naming the file and the system's reason.
Result<void> save_token_file(const std::string& path, const TokenFile& tokens);

}  // namespace sb::net
