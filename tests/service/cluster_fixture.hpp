// Three voicebridge instances sharing one real PostgreSQL, behind a real HAProxy running the shipped
// configuration (packaging/haproxy/voicebridge.cfg, its bind and server addresses replaced by loopback ones):
// what the several-instance tests run calls through.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "integration/postgres_server.hpp"
#include "service/gateway_process.hpp"
#include "service/service_fixture.hpp"

namespace voicebridge::testing {

inline const std::string cluster_admin_token = "cluster-admin-token-0123456789";

// The shipped HAProxy configuration, served on `port` in front of `instances` (vb1, vb2, ... on their ports).
inline std::string haproxy_config(unsigned short port, const std::vector<std::uint16_t>& instances) {
  const char* root = std::getenv("VOICEBRIDGE_SOURCE_ROOT");
  BOOST_TEST_REQUIRE(root != nullptr, "VOICEBRIDGE_SOURCE_ROOT is not set (meson sets it)");
  std::ifstream in(std::filesystem::path(root) / "packaging/haproxy/voicebridge.cfg");
  std::stringstream text;
  text << in.rdbuf();
  std::string config = std::regex_replace(text.str(), std::regex("bind :443 ssl [^\n]*"),
                                          "bind 127.0.0.1:" + std::to_string(port));
  for (std::size_t i = 0; i < instances.size(); ++i) {
    const std::string name = "vb" + std::to_string(i + 1);
    const std::string shipped = "server " + name + " 127.0.0.1:808" + std::to_string(i + 1);
    BOOST_TEST_REQUIRE(config.find(shipped) != std::string::npos, "the shipped config has no '" << shipped << "'");
    config = std::regex_replace(config, std::regex(shipped), "server " + name + " 127.0.0.1:" + std::to_string(instances[i]));
  }
  return config;
}

class cluster {
 public:
  // `extra`: more environment for every instance (the routes, the drain timeout, ...).
  explicit cluster(std::map<std::string, std::string> extra = {}) : extra_(std::move(extra)) {
    if (!start_or_skip(pg_)) return;
    // Each instance keeps its port across restarts, as behind a configured load balancer.
    for (int i = 1; i <= 3; ++i) ports_.push_back(free_loopback_port());
    // Started together: the schema is migrated once, under PostgreSQL's advisory lock.
    for (int i = 1; i <= 3; ++i) start_instance(i);
    for (int i = 1; i <= 3; ++i) BOOST_TEST_REQUIRE(instance(i).port() == ports_[static_cast<std::size_t>(i - 1)]);
    port_ = free_loopback_port();
    std::ofstream(files_.path / "haproxy.cfg") << haproxy_config(port_, ports_);
    haproxy_ = std::make_unique<gateway_process>(std::map<std::string, std::string>{}, std::vector<std::string>{},
                                                 "haproxy", std::vector<std::string>{"-db", "-f", (files_.path / "haproxy.cfg").string()});
    BOOST_TEST_REQUIRE(wait_listening(port_), "haproxy did not listen:\n" << haproxy_->log());
    ready_ = true;
  }

  bool ready() const { return ready_; }
  std::uint16_t port() const { return port_; }  // HAProxy: where Twilio's requests go
  gateway_process& instance(int n) { return *gateways_.at(static_cast<std::size_t>(n - 1)); }
  std::uint16_t instance_port(int n) const { return ports_.at(static_cast<std::size_t>(n - 1)); }
  gateway_process& haproxy() { return *haproxy_; }

  // A fresh process for instance `n` (at the start, or after a restart or a crash), on its own port.
  void start_instance(int n) {
    auto env = service_env({{"INSTANCE_ID", "vb" + std::to_string(n)},
                            {"PORT", std::to_string(ports_.at(static_cast<std::size_t>(n - 1)))},
                            {"DATABASE_URL", pg_.url()},
                            {"ADMIN_TOKEN", cluster_admin_token},
                            // Two io threads: the stream URLs name one (/vbN/io_K), and HAProxy must still
                            // route on the instance's key.
                            {"THREADS", "2"}});
    for (const auto& [k, v] : extra_) env[k] = v;
    auto process = std::make_unique<gateway_process>(env);
    if (gateways_.size() >= static_cast<std::size_t>(n)) gateways_[static_cast<std::size_t>(n - 1)] = std::move(process);
    else gateways_.push_back(std::move(process));
  }

  // Which instance logged `needle` (0: none).
  int instance_that_logged(const std::string& needle) {
    for (std::size_t i = 0; i < gateways_.size(); ++i)
      if (gateways_[i]->log().find(needle) != std::string::npos) return static_cast<int>(i + 1);
    return 0;
  }
  std::string logs() {
    std::string all;
    for (std::size_t i = 0; i < gateways_.size(); ++i) all += "--- vb" + std::to_string(i + 1) + "\n" + gateways_[i]->log();
    return all + "--- haproxy\n" + (haproxy_ ? haproxy_->log() : std::string());
  }

 private:
  static bool wait_listening(unsigned short port) {
    for (int i = 0; i < 100; ++i) {
      asio::io_context io;
      asio::ip::tcp::socket s(io);
      boost::system::error_code ec;
      s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
      if (!ec) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::map<std::string, std::string> extra_;
  postgres_server pg_;
  temp_dir files_;
  std::vector<std::unique_ptr<gateway_process>> gateways_;
  std::vector<std::uint16_t> ports_;
  std::unique_ptr<gateway_process> haproxy_;
  unsigned short port_ = 0;
  bool ready_ = false;
};

// A caller that reaches the gateways through HAProxy, and follows <Connect action> as Twilio does.
inline sim::options cluster_caller(const cluster& c, std::vector<std::uint8_t> audio) {
  auto o = caller(c.port(), std::move(audio));
  o.follow_connect_action = true;
  return o;
}

// The stored record of a call, read through HAProxy (any instance answers), once its last stream's record is
// in: the one that is not handed off (a drained instance's record of the call comes first).
inline boost::json::object stored_record(client_loop& client, std::uint16_t port, const std::string& call_sid) {
  std::string last;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto r = client.get(http_call(port, http::verb::get, "/api/calls/" + call_sid, {},
                                  {{"Authorization", "Bearer " + cluster_admin_token}}));
    if (r.status == 200) {
      auto record = boost::json::parse(r.body).as_object();
      if (!record.at("handed_off").as_bool()) return record;
      last = r.body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the record writer's batch is on its way
  }
  BOOST_FAIL("no final record for " << call_sid << ": " << last);
  return {};
}

}  // namespace voicebridge::testing
