#include "net/token_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "net/json.hpp"
#include "net/retry.hpp"

namespace sb::net {

Result<TokenFile> load_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return fail(errno == ENOENT ? ErrorKind::NotFound : ErrorKind::InvalidArgument,
                path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  auto o = net::parse_json_object(text.str(), path);
  if (!o) return fail(ErrorKind::InvalidArgument, o.error().message);
  TokenFile t;
  for (auto [key, field] :
       {std::pair{"client_id", &t.client_id}, std::pair{"access_token", &t.access_token},
        std::pair{"refresh_token", &t.refresh_token}}) {
    auto s = net::get_string(*o, key, path);
    if (!s || s->empty())
      return fail(ErrorKind::InvalidArgument,
                  path + ": " + key + " is missing (not a token file sunbridge wrote)");
    *field = *s;
  }
  auto expires = net::get_string(*o, "expires_at", path);
  if (!expires || !parse_iso8601(*expires, t.expires_at))
    return fail(ErrorKind::InvalidArgument, path + ": expires_at must be an ISO 8601 time");
  return t;
}

Result<void> save_token_file(const std::string& path, const TokenFile& t) {
  boost::json::object o;
  o["client_id"] = t.client_id;
  o["access_token"] = t.access_token;
  o["refresh_token"] = t.refresh_token;
  o["expires_at"] = format_iso8601(t.expires_at);
  auto text = net::to_json(o) + "\n";
  auto tmp = path + ".tmp";
  auto error = [&](const char* step) {
    auto e = fail(ErrorKind::Internal, path + ": cannot " + step + ": " + std::strerror(errno));
    ::unlink(tmp.c_str());
    return e;
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return error("create its temporary file");
  ::fchmod(fd, 0600);  // an old temporary file keeps its mode otherwise
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return error("write");
    }
    p += n;
    left -= std::size_t(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return error("flush");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return error("replace");
  return Result<void>{};
}

Result<OAuthTokens> parse_token_answer(int status, std::string_view body, std::string_view what) {
  auto doc = parse_json_object(body, what);
  if (!doc) return fail(doc.error());
  auto text = [](const boost::json::object& o, std::string_view key) {
    auto v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  std::string w(what);
  if (status != 200 || doc->contains("error")) {
    auto code = text(*doc, "error");
    auto description = text(*doc, "error_description");
    return fail(status >= 500 ? ErrorKind::Transport
                : code == "invalid_grant" || code == "invalid_client" || status == 401
                    ? ErrorKind::Auth
                    : ErrorKind::Protocol,
                w + ": HTTP " + std::to_string(status) + " " + code +
                    (description.empty() ? "" : " (" + description + ")"));
  }
  const boost::json::object* o = &*doc;
  if (auto res = doc->if_contains("result"); res && res->is_object()) o = &res->as_object();
  OAuthTokens t{text(*o, "access_token"), text(*o, "refresh_token"), std::chrono::seconds(0)};
  // A lifetime in seconds; what no clock can hold (1e120, -5, 'NaN') is a broken answer.
  constexpr double kLongest = 10.0 * 366 * 86'400;
  if (auto e = o->if_contains("expires_in"))
    if (auto n = as_double(*e)) {
      if (!std::isfinite(*n) || *n < 0 || *n > kLongest)
        return fail(ErrorKind::Protocol, w + ": expires_in " + number_text(*n) +
                                             " is not a lifetime in seconds (0 to " +
                                             number_text(kLongest) + ")");
      t.expires_in = std::chrono::seconds(static_cast<std::int64_t>(*n));
    }
  if (t.access_token.empty())
    return fail(ErrorKind::Protocol, w + ": the answer has no access_token");
  return t;
}

OAuthSession::OAuthSession(std::string vendor, std::string client_id, std::string token_file,
                           std::string again, const Clock& clock, Sleeper& sleeper)
    : vendor_(std::move(vendor)),
      client_id_(std::move(client_id)),
      file_(std::move(token_file)),
      again_(std::move(again)),
      clock_(clock),
      sleeper_(sleeper) {}

std::optional<TimePoint> OAuthSession::expires_at() const {
  return tokens_ ? std::optional<TimePoint>(tokens_->expires_at) : std::nullopt;
}

boost::asio::awaitable<Result<std::string>> OAuthSession::access_token(Refresh refresh) {
  while (refreshing_) co_await sleeper_.sleep(Millis(50));
  const std::string what = vendor_ + " OAuth: ";
  if (!tokens_) {
    auto t = load_token_file(file_);
    if (!t)
      co_return fail(ErrorKind::Auth,
                     what +
                         (t.error().kind == ErrorKind::NotFound ? file_ + " does not exist yet"
                                                                : t.error().message) +
                         "; " + again_);
    if (t->client_id != client_id_)
      co_return fail(ErrorKind::Auth, what + "the tokens in " + file_ + " belong to app '" +
                                          t->client_id + "', not '" + client_id_ + "'; " + again_);
    tokens_ = std::move(*t);
  }
  auto now = clock_.now();
  if (!stale_ && tokens_->expires_at - now > std::chrono::minutes(5)) {
    if (unsaved_ && save_token_file(file_, *tokens_)) unsaved_ = false;
    co_return tokens_->access_token;
  }
  refreshing_ = true;
  auto op = refresh(tokens_->refresh_token);
  auto r = co_await std::move(op);
  refreshing_ = false;
  if (!r) {
    if (r.error().kind == ErrorKind::Auth)
      co_return fail(ErrorKind::Auth, what + "the cloud refused the refresh token in " + file_ +
                                          " (" + r.error().message + "); " + again_);
    co_return fail(r.error());
  }
  tokens_->access_token = r->access_token;
  if (!r->refresh_token.empty()) tokens_->refresh_token = r->refresh_token;
  tokens_->expires_at =
      now + (r->expires_in.count() > 0 ? Millis(r->expires_in) : Millis(86'400'000));
  stale_ = false;
  if (auto w = save_token_file(file_, *tokens_); !w) {
    unsaved_ = true;  // tried again before each call until it works
    co_return fail(ErrorKind::Internal, what + "refreshed the tokens but " + w.error().message +
                                            "; until it can be written the next start needs " +
                                            again_.substr(again_.find("run ") == 0 ? 4 : 0) +
                                            " again");
  }
  co_return tokens_->access_token;
}

}  // namespace sb::net
