// A typed call per endpoint of the KOSTAL PLENTICORE plus / PIKO IQ local REST API (base
// /api/v1, protocols.md §1), with the login of §1.2: one session is reused across calls; a 401
// costs one silent re-login and a retry; a refused password stops all further attempts (the
// device locks the account after a few wrong ones) until the configuration changes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "net/http_client.hpp"
#include "vendors/kostal/wire.hpp"

namespace sb::kostal {

namespace asio = boost::asio;

inline constexpr std::uint16_t kDefaultPort = 80;

struct Credentials {
  std::string role = "user";  ///< "user" (plant owner) or "master" (installer)
  std::string password;       ///< the owner's password, or the master key
  std::string service_code;   ///< installer only
};

class Client {
 public:
  Client(net::HttpClient& http, net::Endpoint endpoint, Credentials credentials,
         Millis timeout = Millis(10'000), asio::thread_pool* blocking = nullptr);

  /// The whole handshake: auth/start, auth/finish (checking the server's signature),
  /// auth/create_session.
  asio::awaitable<Result<void>> login();
  /// POST auth/logout when a session is open.
  asio::awaitable<Result<void>> logout();

  asio::awaitable<Result<VersionInfo>> version();
  asio::awaitable<Result<MeInfo>> me();
  asio::awaitable<Result<std::vector<ModuleInfo>>> modules();
  /// GET processdata: the ids of every module.
  asio::awaitable<Result<std::vector<std::pair<std::string, std::vector<std::string>>>>>
  process_data_ids();
  /// GET processdata/{module} or processdata/{module}/{id,id,…}.
  asio::awaitable<Result<ModuleValues>> process_data(std::string module,
                                                     std::vector<std::string> ids = {});
  /// POST processdata: several modules at once.
  asio::awaitable<Result<std::vector<ModuleValues>>> process_data(
      std::vector<std::pair<std::string, std::vector<std::string>>> request);
  /// The same with the request body made once (process_data_body()): the driver's poll.
  asio::awaitable<Result<std::vector<ModuleValues>>> process_data_posted(std::string body);
  /// GET settings: metadata of every setting (access depends on the session's role).
  asio::awaitable<Result<std::vector<ModuleSettings>>> settings_meta();
  /// POST settings (read): values of the ids of one module.
  asio::awaitable<Result<std::vector<SettingValue>>> settings(std::string module,
                                                              std::vector<std::string> ids);
  /// PUT settings. The reply is not authoritative: read the values back.
  asio::awaitable<Result<void>> write_settings(std::string module,
                                               std::vector<SettingValue> values);
  asio::awaitable<Result<std::vector<EventInfo>>> events(int max = 10,
                                                         std::string language = "en-gb");
  /// POST logdata/download for local dates "YYYY-MM-DD" (inclusive); the tab-separated text.
  asio::awaitable<Result<std::string>> log_data(std::string begin, std::string end);
  asio::awaitable<Result<FirmwareStatus>> firmware_status();

  bool has_session() const { return !session_.empty(); }
  /// Set once the device refused the password: no further login is tried.
  bool needs_credentials() const { return needs_credentials_; }
  std::uint64_t logins() const { return logins_; }

 private:
  asio::awaitable<Result<net::HttpResponse>> send(std::string method, std::string target,
                                                  std::string body, bool with_session);
  /// A call that needs a session: logs in first when there is none, and once more on 401.
  asio::awaitable<Result<net::HttpResponse>> call(std::string method, std::string target,
                                                  std::string body, std::string what);
  /// call() whose answer must be a JSON array (most of this API).
  asio::awaitable<Result<boost::json::array>> call_array(std::string method, std::string target,
                                                         std::string body, std::string what);

  net::HttpClient& http_;
  net::Endpoint endpoint_;
  Credentials credentials_;
  Millis timeout_;
  asio::thread_pool* blocking_;
  std::string session_;
  bool needs_credentials_ = false;
  std::string credentials_error_;
  std::uint64_t logins_ = 0;
};

/// The body of POST processdata decoded. The fast path reads the common shape (value a number,
/// unit a string or null, no duplicate keys) without building a DOM and gives up (nullopt) on
/// anything else; the full decoder accepts every variant (numeric strings) and words every
/// error. Where the fast path gives modules, the full decoder gives the same (fuzz_fast_decode).
Result<std::vector<ModuleValues>> parse_process_data(std::string_view body, std::string_view what);
std::optional<std::vector<ModuleValues>> parse_process_data_fast(std::string_view body);
Result<std::vector<ModuleValues>> parse_process_data_full(std::string_view body,
                                                          std::string_view what);
/// The request body of POST processdata.
std::string process_data_body(
    const std::vector<std::pair<std::string, std::vector<std::string>>>& request);

/// A non-2xx reply as an error of the right kind, quoting the device's message:
/// 400 InvalidArgument (Auth during login), 401 Auth, 403 Auth (locked / access denied),
/// 404 NotFound, 503 and other 5xx Transport (retried later).
Error error_from_reply(const net::HttpResponse& response, std::string_view what);

}  // namespace sb::kostal
