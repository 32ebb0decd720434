#include "store/owner_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace sb::store {

namespace {

LockHolder parse_holder(const std::string& text) {
  LockHolder h;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    auto line = text.substr(start, end - start);
    start = end + 1;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "pid")
      h.pid = std::strtol(value.c_str(), nullptr, 10);
    else if (key == "role")
      h.role = value;
    else if (key == "api")
      h.api = value;
    else if (key == "since")
      h.since = value;
  }
  return h;
}

std::string read_all(int fd) {
  std::string out;
  char buf[512];
  ssize_t n;
  off_t at = 0;
  while ((n = ::pread(fd, buf, sizeof buf, at)) > 0) {
    out.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  return out;
}

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

std::string LockHolder::describe() const {
  std::string who = "sunbridge " + (role.empty() ? std::string("(starting)") : role);
  std::string detail = pid > 0 ? "pid " + std::to_string(pid) : "pid not written yet";
  if (!api.empty()) detail += ", API " + api;
  if (!since.empty()) detail += ", since " + since;
  return who + " (" + detail + ")";
}

OwnerLock::OwnerLock(OwnerLock&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), self_(std::move(o.self_)) {}

OwnerLock& OwnerLock::operator=(OwnerLock&& o) noexcept {
  std::swap(fd_, o.fd_);
  std::swap(path_, o.path_);
  std::swap(self_, o.self_);
  return *this;
}

OwnerLock::~OwnerLock() {
  if (fd_ < 0) return;
  // Emptied first, so a reader between our unlock and a new owner's write sees no stale pid.
  (void)::ftruncate(fd_, 0);
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

std::string OwnerLock::path_for(const std::string& database) {
  if (database.empty() || database == ":memory:" || database.starts_with("file:")) return "";
  return database + ".lock";
}

Result<OwnerLock> OwnerLock::take(const std::string& database, std::string role,
                                  std::chrono::milliseconds wait) {
  OwnerLock lock;
  auto path = path_for(database);
  if (path.empty()) return lock;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    return fail(ErrorKind::Internal, "cannot open lock file '" + path + "' of database '" +
                                         database + "': " + errno_text());
  // Until the lock is ours the file is the holder's: closed untouched on every way out.
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      auto why = errno_text();
      ::close(fd);
      return fail(ErrorKind::Internal, "cannot lock '" + path + "': " + why);
    }
    auto other = parse_holder(read_all(fd));
    // A one-shot command ends in seconds; a gateway holds the file until it stops.
    bool brief = other.role == "control" || other.role.empty();
    if (!brief || std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return fail(ErrorKind::Conflict, "database '" + database + "' is in use by " +
                                           other.describe() +
                                           ": one process polls and commands a database's devices");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  lock.fd_ = fd;
  lock.path_ = std::move(path);
  lock.self_.pid = static_cast<long>(::getpid());
  lock.self_.role = std::move(role);
  lock.self_.since = format_iso8601(std::chrono::floor<std::chrono::seconds>(RealClock().now()));
  if (auto r = lock.write(); !r) return fail(r.error());
  return lock;
}

std::optional<LockHolder> OwnerLock::holder(const std::string& database) {
  auto path = path_for(database);
  if (path.empty()) return std::nullopt;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<LockHolder> out;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0)
    ::flock(fd, LOCK_UN);  // nobody holds it
  else
    out = parse_holder(read_all(fd));
  ::close(fd);
  return out;
}

Result<void> OwnerLock::set_api(const std::string& api) {
  if (fd_ < 0) return {};
  self_.api = api;
  return write();
}

Result<void> OwnerLock::write() {
  std::string text = "pid=" + std::to_string(self_.pid) + "\nrole=" + self_.role +
                     "\napi=" + self_.api + "\nsince=" + self_.since + "\n";
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    return fail(ErrorKind::Internal, "cannot write lock file '" + path_ + "': " + errno_text());
  return {};
}

}  // namespace sb::store
