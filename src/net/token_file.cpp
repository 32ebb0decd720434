#include "net/token_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "net/json.hpp"

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
                  path + ": " + key + " is missing; run `sunbridge auth foxess` again");
    *field = *s;
  }
  auto expires = net::get_string(*o, "expires_at", path);
  if (!expires || !parse_iso8601(*expires, t.expires_at))
    return fail(ErrorKind::InvalidArgument,
                path + ": expires_at must be an ISO 8601 time; run `sunbridge auth foxess` again");
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

}  // namespace sb::net
