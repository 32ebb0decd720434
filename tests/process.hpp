// Test support: run a program, read its output line by line with a deadline, signal it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sb::test {

class Process {
 public:
  explicit Process(std::vector<std::string> args) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      // Dies with the test (or harness) that started it, also when that is killed and cannot
      // run its destructors: no simulator or gateway is left behind holding ports.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]);
      close(err[0]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~Process() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
    if (err_ >= 0) close(err_);
  }

  pid_t pid() const { return pid_; }

  /// Next stdout line, or nullopt at EOF / deadline.
  std::optional<std::string> line(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return read_line(out_, out_buf_, timeout);
  }
  /// Next stderr line, or nullopt at EOF / deadline.
  std::optional<std::string> err_line(
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return read_line(err_, err_buf_, timeout);
  }
  /// Reads stderr until a line contains `text` (the lines read are kept in `seen`); false at
  /// EOF or the deadline.
  bool stderr_until(const std::string& text, std::string& seen,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      auto l = err_line(left);
      if (!l) return false;
      seen += *l + "\n";
      if (l->find(text) != std::string::npos) return true;
    }
  }
  /// Everything on stdout / stderr until EOF (call after the process ended).
  std::string rest_of_stdout() { return drain(out_, out_buf_); }
  std::string rest_of_stderr() { return drain(err_, err_buf_); }

  void signal(int sig) { kill(pid_, sig); }
  /// Exit code, or -1 when it did not end in time (then it is killed), 128+n on signal n.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {  // looks once at least: wait(0ms) asks whether it has ended
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      usleep(10'000);
    }
  }

 private:
  static std::optional<std::string> read_line(int fd, std::string& buf,
                                              std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto nl = buf.find('\n');
      if (nl != std::string::npos) {
        auto l = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return l;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char tmp[4096];
      auto n = ::read(fd, tmp, sizeof tmp);
      if (n <= 0) return std::nullopt;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }
  static std::string drain(int fd, std::string& buf) {
    char tmp[4096];
    ssize_t n;
    while ((n = ::read(fd, tmp, sizeof tmp)) > 0) buf.append(tmp, static_cast<std::size_t>(n));
    return std::exchange(buf, {});
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool exited_ = false;
  std::string out_buf_, err_buf_;
};

}  // namespace sb::test
