// What the service tests share: the binary's environment, Twilio's side on a thread of its own, a caller.
#pragma once
#include <boost/asio.hpp>
#include <boost/test/unit_test.hpp>
#include <future>
#include <map>
#include <string>
#include <thread>

#include "integration/gateway_fixture.hpp"
#include "temp_dir.hpp"

namespace voicebridge::testing {
using namespace std::chrono_literals;

inline const std::string auth_token = "service-test-auth-token";
inline const std::string public_url = "https://gw.example.test";

inline std::map<std::string, std::string> service_env(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env{{"PORT", "0"},
                                         {"BIND_ADDRESS", "127.0.0.1"},
                                         {"PUBLIC_BASE_URL", public_url},
                                         {"TWILIO_AUTH_TOKEN", auth_token},
                                         {"TWILIO_STREAM_TOKEN", "service-test-stream-token-key"},
                                         {"THREADS", "2"},
                                         {"LOCAL_AGENT", "echo"},
                                         {"STATE_DIR", make_temp_dir().string()},
                                         {"LOG_LEVEL", "info"}};
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

inline app::config client_view() {  // what the tests need to sign requests as Twilio
  app::config c;
  c.public_base_url = public_url;
  c.twilio_auth_token = auth_token;
  return c;
}

// The test's own event loop (Twilio's side), on a thread of its own.
struct client_loop {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  ~client_loop() {
    work.reset();
    io.stop();
    thread.join();
  }
  template <class T>
  std::future<T> spawn(asio::awaitable<T> task) {
    return asio::co_spawn(io, std::move(task), asio::use_future);
  }
  // `work` run on the loop's thread (the stand-ins on it are not thread-safe); what it returns.
  template <class Work>
  auto on_loop(Work work) {
    std::packaged_task<decltype(work())()> task(std::move(work));
    auto result = task.get_future();
    asio::post(io, [&task] { task(); });
    return result.get();
  }
  template <class T>
  T get(asio::awaitable<T> task, std::chrono::seconds timeout = 60s) {
    auto f = spawn(std::move(task));
    BOOST_TEST_REQUIRE((f.wait_for(timeout) == std::future_status::ready), "client task timed out");
    return f.get();
  }
};

inline sim::options caller(std::uint16_t port, std::vector<std::uint8_t> audio) {
  sim::options o;
  o.port = port;
  o.public_base_url = public_url;
  o.auth_token = auth_token;
  o.caller_audio = std::move(audio);
  o.linger = 600ms;
  return o;
}

template <class T>
T ready(std::future<T>& f, std::chrono::seconds timeout = 60s) {
  BOOST_TEST_REQUIRE((f.wait_for(timeout) == std::future_status::ready), "call did not finish in time");
  return f.get();
}


}  // namespace voicebridge::testing
