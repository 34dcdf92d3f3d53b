// A real PostgreSQL server for one test: its own data directory under /tmp, loopback only, a free port,
// trust authentication. Debian's `postgresql` package provides initdb and pg_ctl; PostgreSQL refuses to
// run as root, so as root the server runs as the `postgres` user.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <pwd.h>
#include <unistd.h>

#include "temp_dir.hpp"

namespace voicebridge::testing {

// A port nothing listens on now (the kernel's pick, released): for servers that take a port number, not 0.
inline unsigned short free_loopback_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

class postgres_server {
 public:
  postgres_server() {
    for (const auto& version : {"17", "16", "15", "14", "13"}) {
      const std::filesystem::path bin = std::filesystem::path("/usr/lib/postgresql") / version / "bin";
      if (std::filesystem::exists(bin / "initdb") && std::filesystem::exists(bin / "pg_ctl")) {
        bin_ = bin;
        break;
      }
    }
    if (bin_.empty()) return;
    port_ = free_loopback_port();
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw) {
        bin_.clear();  // no user to run it as
        return;
      }
      run_as_ = "runuser -u postgres -- ";
      std::filesystem::permissions(dir_.path, std::filesystem::perms::owner_all);
      [[maybe_unused]] int rc = ::chown(dir_.path.c_str(), pw->pw_uid, pw->pw_gid);
    }
    initialized_ = run(quoted(bin_ / "initdb") + " -D " + quoted(data()) + " -U voicebridge --auth=trust -E UTF8 --no-sync");
  }
  ~postgres_server() {
    if (running_) stop();
  }

  bool available() const { return !bin_.empty(); }

  bool start() {
    if (!initialized_) return false;
    running_ = run(quoted(bin_ / "pg_ctl") + " -D " + quoted(data()) + " -l " + quoted(dir_.path / "server.log") +
                   " -w -t 30 -o \"-p " + std::to_string(port_) + " -k " + dir_.path.string() +
                   " -c listen_addresses=127.0.0.1 -c fsync=off\" start");
    return running_;
  }
  bool stop() {
    const bool ok = run(quoted(bin_ / "pg_ctl") + " -D " + quoted(data()) + " -m fast -w -t 30 stop");
    running_ = !ok;
    return ok;
  }

  std::string url() const { return "postgres://voicebridge@127.0.0.1:" + std::to_string(port_) + "/postgres"; }
  std::string log() const {
    std::ifstream in(dir_.path / "server.log");
    std::stringstream out;
    out << commands_ << in.rdbuf();
    return out.str();
  }

 private:
  std::filesystem::path data() const { return dir_.path / "data"; }
  static std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
  bool run(const std::string& command) {
    const std::string full = run_as_ + command + " >>" + quoted(dir_.path / "commands.log") + " 2>&1";
    commands_ += full + "\n";
    return std::system(full.c_str()) == 0;
  }

  temp_dir dir_;
  std::filesystem::path bin_;
  std::string run_as_;
  std::string commands_;
  unsigned short port_ = 0;
  bool initialized_ = false;
  bool running_ = false;
};

// Starts `pg` for a test; false (and the reason in the test log) when this machine has no PostgreSQL server
// binaries, so the test is skipped rather than failed.
inline bool start_or_skip(postgres_server& pg) {
  if (!pg.available()) {
    BOOST_TEST_MESSAGE("PostgreSQL server binaries (initdb, pg_ctl) not found: skipped");
    return false;
  }
  BOOST_TEST_REQUIRE(pg.start(), pg.log());
  return true;
}

}  // namespace voicebridge::testing
