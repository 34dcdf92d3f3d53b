// The real voicebridge binary as a child process (the way systemd runs it), with its log captured line by
// line, so the tests can signal it, read its notify datagrams and check its exit status.
#pragma once
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

extern char** environ;

namespace voicebridge::testing {

class gateway_process {
 public:
  // `wrapper`: a command the binary runs under (e.g. {"prlimit", "--nofile=40"}), found on PATH.
  // A STATE_DIR made by make_temp_dir is removed with the process. `program` and `args`: another program than
  // the gateway (HAProxy in front of several), started and watched the same way.
  explicit gateway_process(const std::map<std::string, std::string>& env, std::vector<std::string> wrapper = {},
                           const char* program = nullptr, const std::vector<std::string>& args = {}) {
    if (auto it = env.find("STATE_DIR"); it != env.end()) state_dir_ = it->second;
    const char* binary = program ? program : std::getenv("VOICEBRIDGE_BIN");
    BOOST_TEST_REQUIRE(binary != nullptr, "VOICEBRIDGE_BIN is not set (meson sets it)");
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    std::vector<std::string> vars;
    for (char** e = environ; *e; ++e) {
      const std::string var = *e;
      const std::string name = var.substr(0, var.find('='));
      // Never the test runner's own systemd supervision: the gateway would notify (or be watched by) it.
      if (name == "NOTIFY_SOCKET" || name.starts_with("WATCHDOG_")) continue;
      if (!env.contains(name)) vars.push_back(var);
    }
    for (const auto& [k, v] : env) vars.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    wrapper.push_back(binary);
    wrapper.insert(wrapper.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : wrapper) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    BOOST_TEST_REQUIRE(rc == 0, "cannot start " << binary);
    reader_ = std::thread([this, fd = fds[0]] {
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
        std::lock_guard lock(mutex_);
        output_.append(buf, static_cast<std::size_t>(n));
        changed_.notify_all();
      }
      ::close(fd);
    });
  }
  ~gateway_process() {
    if (!exit_status_) {
      ::kill(pid_, SIGKILL);
      wait_exit(std::chrono::seconds(10));
    }
    reader_.join();
    if (!state_dir_.empty()) remove_temp_dir(state_dir_);
  }

  // Waits until the log contains `needle`; returns the log from that line on.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return output_.find(needle) != std::string::npos; });
  }
  std::string log() const {
    std::lock_guard lock(mutex_);
    return output_;
  }
  // The integer after `key=` on the first line containing `event`.
  std::optional<long> log_value(const std::string& event, const std::string& key) const {
    const auto text = log();
    const auto at = text.find(event);
    if (at == std::string::npos) return std::nullopt;
    const auto line_end = text.find('\n', at);
    const auto k = text.find(" " + key + "=", at);
    if (k == std::string::npos || k > line_end) return std::nullopt;
    return std::stol(text.substr(k + key.size() + 2));
  }
  // The listening port, once the gateway logged it.
  std::uint16_t port() {
    BOOST_TEST_REQUIRE(wait_for_log("listening "), "gateway did not start:\n" << log());
    return static_cast<std::uint16_t>(log_value("info listening ", "port").value_or(0));
  }

  void signal(int sig) { ::kill(pid_, sig); }

  // The exit status (or 128 + signal), if the process ended in time.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_status_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  std::filesystem::path state_dir_;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string output_;
  std::optional<int> exit_status_;
};

}  // namespace voicebridge::testing
