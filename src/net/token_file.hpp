// The OAuth tokens of a cloud connection on disk (FoxESS, Enphase: docs/vendors/*.md, OAuth):
// written by `sunbridge auth <vendor>`, read and rewritten by the driver each time it refreshes
// (both clouds rotate the refresh token, so the file must follow it). JSON, mode 0600, replaced
// atomically (a temporary file beside it, then rename) so a crash never leaves half a file.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
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

/// What a token endpoint gives.
struct OAuthTokens {
  std::string access_token, refresh_token;
  std::chrono::seconds expires_in{0};
};

/// A token endpoint's answer (RFC 6749): the tokens, at the top level or inside a "result"
/// object; otherwise an Error naming `what`, the HTTP status, the endpoint's error code and
/// description (invalid_grant, invalid_client or 401: Auth; 5xx: Transport; else Protocol).
Result<OAuthTokens> parse_token_answer(int status, std::string_view body, std::string_view what);

class Sleeper;

/// A driver's OAuth tokens: read from the token file at first use, refreshed when less than five
/// minutes are left or the cloud refused the access token, and the file rewritten at once after
/// each refresh (the refresh token rotates). One refresh at a time.
class OAuthSession {
 public:
  /// `vendor` names the cloud in messages ("FoxESS"); `again` is what to run when the tokens are
  /// gone for good ("run `sunbridge auth foxess -c <config> --connection x`").
  OAuthSession(std::string vendor, std::string client_id, std::string token_file, std::string again,
               const Clock& clock, Sleeper& sleeper);
  using Refresh =
      std::function<boost::asio::awaitable<Result<OAuthTokens>>(std::string refresh_token)>;
  /// The access token to send now, refreshed through `refresh` when due.
  boost::asio::awaitable<Result<std::string>> access_token(Refresh refresh);
  /// The cloud refused the access token (revoked, expired early): refresh before the next call.
  void mark_stale() { stale_ = true; }
  std::optional<TimePoint> expires_at() const;

 private:
  std::string vendor_, client_id_, file_, again_;
  const Clock& clock_;
  Sleeper& sleeper_;
  std::optional<TokenFile> tokens_;
  bool stale_ = false;
  bool refreshing_ = false;
  bool unsaved_ = false;  // refreshed tokens the file does not have yet
};

}  // namespace sb::net
