// voicebridge as a service: the built binary run as systemd runs it, driven over real sockets — the
// notify protocol on a real NOTIFY_SOCKET, the drain on SIGTERM, several io threads carrying calls, and
// /metrics checked by promtool.
#define BOOST_TEST_MODULE voicebridge service tests
#include <boost/asio.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <future>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "call/playback.hpp"
#include "integration/gateway_fixture.hpp"
#include "service/gateway_process.hpp"
#include "service/service_fixture.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(service_notify)

BOOST_AUTO_TEST_CASE(ready_watchdog_status_and_stopping_reach_a_real_notify_socket) {
#if !VOICEBRIDGE_HAVE_SYSTEMD
  BOOST_TEST_MESSAGE("skipped: built without libsystemd (-Dsystemd=disabled)");
  return;
#endif
  const std::string path = "/tmp/voicebridge-notify-" + std::to_string(::getpid());
  ::unlink(path.c_str());
  const int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  BOOST_TEST_REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  auto receive = [&](std::chrono::milliseconds timeout) -> std::optional<std::string> {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buf[4096];
    const auto n = ::recv(sock, buf, sizeof buf, 0);
    return n > 0 ? std::optional(std::string(buf, static_cast<std::size_t>(n))) : std::nullopt;
  };

  gateway_process gw(service_env({{"NOTIFY_SOCKET", path}, {"WATCHDOG_USEC", "200000"}}));
  std::optional<std::string> first = receive(20s);
  BOOST_TEST_REQUIRE(first.has_value(), "no notification:\n" << gw.log());
  BOOST_TEST(first->find("READY=1") != std::string::npos, *first);
  BOOST_TEST(first->find("STATUS=0 active calls") != std::string::npos, *first);
  // READY comes after the socket listens: the gateway answers at once.
  client_loop client;
  BOOST_TEST(client.get(http_call(gw.port(), http::verb::get, "/healthz")).status == 200u);

  // WATCHDOG=1 every WATCHDOG_USEC/2 = 100 ms.
  int watchdogs = 0;
  const auto until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < until)
    if (auto m = receive(200ms); m && m->find("WATCHDOG=1") != std::string::npos) ++watchdogs;
  BOOST_TEST(watchdogs >= 4);

  gw.signal(SIGTERM);
  bool stopping = false;
  for (int i = 0; i < 50 && !stopping; ++i)
    if (auto m = receive(200ms); m && m->find("STOPPING=1") != std::string::npos) stopping = true;
  BOOST_TEST(stopping);
  BOOST_TEST(gw.wait_exit(10s).value_or(-1) == 0, gw.log());
  ::close(sock);
  ::unlink(path.c_str());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(service_drain)

BOOST_AUTO_TEST_CASE(sigterm_lets_the_active_call_finish_refuses_new_ones_and_exits_0) {
  gateway_process gw(service_env({{"DRAIN_TIMEOUT_S", "30"}}));
  const auto port = gw.port();
  client_loop client;
  const auto audio = speech(150, 1);  // 3 s of caller audio
  auto o = caller(port, audio);
  o.hang_up_after_bytes = call::make_greeting_tone().size() + audio.size();
  o.linger = 20s;
  auto call = client.spawn(sim::run_call(o));
  BOOST_TEST_REQUIRE(gw.wait_for_log("info start call_sid="));
  gw.signal(SIGTERM);
  BOOST_TEST_REQUIRE(gw.wait_for_log("info draining"));
  BOOST_TEST(client.get(http_call(port, http::verb::get, "/healthz")).status == 503u);
  twilio::form_params form;
  form.add("CallSid", "CA" + std::string(32, 'e'));
  BOOST_TEST(client.get(signed_post(port, client_view(), std::string(app::voice_webhook_path), form)).status == 503u);

  auto s = ready(call);
  BOOST_TEST(s.error == "");
  BOOST_TEST(!s.server_closed);  // the caller hung up when done; the gateway did not cut the call
  auto expected = call::make_greeting_tone();
  expected.insert(expected.end(), audio.begin(), audio.end());
  BOOST_TEST(s.received_audio == expected);  // audio kept flowing both ways during the drain
  BOOST_TEST(gw.wait_exit(15s).value_or(-1) == 0, gw.log());
  BOOST_TEST(gw.log().find("drained, exiting") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(at_the_drain_deadline_calls_are_ended_cleanly_and_the_exit_is_0) {
  gateway_process gw(service_env({{"DRAIN_TIMEOUT_S", "1"}}));
  const auto port = gw.port();
  client_loop client;
  auto call = client.spawn(sim::run_call(caller(port, speech(500, 2))));  // 10 s
  BOOST_TEST_REQUIRE(gw.wait_for_log("info start call_sid="));
  const auto signalled = std::chrono::steady_clock::now();
  gw.signal(SIGTERM);
  auto s = ready(call);
  BOOST_TEST(s.server_closed);
  BOOST_TEST(s.close_code.value_or(0) == 1001);
  BOOST_TEST(s.frames_sent < 500u);
  BOOST_TEST((std::chrono::steady_clock::now() - signalled < 8s));
  BOOST_TEST(gw.wait_exit(10s).value_or(-1) == 0, gw.log());
  BOOST_TEST(gw.log().find("drain timeout: ending active calls") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_second_signal_exits_at_once) {
  gateway_process gw(service_env({{"DRAIN_TIMEOUT_S", "120"}}));
  const auto port = gw.port();
  client_loop client;
  auto call = client.spawn(sim::run_call(caller(port, speech(500, 3))));
  BOOST_TEST_REQUIRE(gw.wait_for_log("info start call_sid="));
  gw.signal(SIGTERM);
  BOOST_TEST_REQUIRE(gw.wait_for_log("info draining"));
  gw.signal(SIGINT);
  BOOST_TEST(gw.wait_exit(3s).value_or(-1) == 1, gw.log());
  auto s = ready(call);  // the caller side sees the connection go
  BOOST_TEST(s.frames_sent < 500u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(service_limits)

// A full descriptor table: accept fails with EMFILE. The listener must pause between attempts (not spin and
// flood the log), count it, and serve again once descriptors are free.
BOOST_AUTO_TEST_CASE(accept_failures_pause_are_counted_and_recover) {
  if (std::system("command -v prlimit >/dev/null") != 0) {
    BOOST_TEST_MESSAGE("skipped: prlimit (util-linux) not installed");
    return;
  }
  gateway_process gw(service_env({{"THREADS", "1"}}), {"prlimit", "--nofile=48"});
  const auto port = gw.port();
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> held;
  asio::io_context io;
  for (int i = 0; i < 80; ++i) {
    auto s = std::make_unique<asio::ip::tcp::socket>(io);
    boost::system::error_code ec;
    s->connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) held.push_back(std::move(s));
  }
  BOOST_TEST_REQUIRE(gw.wait_for_log("accept failed"), gw.log());
  std::this_thread::sleep_for(1s);
  const auto text = gw.log();
  std::size_t failures = 0;
  for (auto p = text.find("accept failed"); p != std::string::npos; p = text.find("accept failed", p + 1)) ++failures;
  BOOST_TEST(failures <= 30u, failures << " accept failures logged in about a second: the loop spins");
  held.clear();
  client_loop client;
  http_result health;
  for (int i = 0; i < 20 && health.status != 200; ++i) {
    std::this_thread::sleep_for(200ms);
    health = client.get(http_call(port, http::verb::get, "/healthz"));
  }
  BOOST_TEST(health.status == 200u);
  auto metrics = client.get(http_call(port, http::verb::get, "/metrics"));
  BOOST_TEST(metrics.body.find("voicebridge_limit_hits_total{limit=\"accept_failed\"}") != std::string::npos);
  gw.signal(SIGTERM);
  BOOST_TEST(gw.wait_exit(10s).value_or(-1) == 0);
}

// The recording's file hits the file size limit (EFBIG, with SIGXFSZ ignored, exactly as a full disk gives
// ENOSPC): the recording stops, is logged and counted, the file keeps what was flushed, the call goes on.
BOOST_AUTO_TEST_CASE(a_full_disk_stops_the_recording_not_the_call) {
  if (std::system("command -v prlimit >/dev/null") != 0) {
    BOOST_TEST_MESSAGE("skipped: prlimit (util-linux) not installed");
    return;
  }
  const std::string admin = "service-admin-token-0123456789";
  // Two channels of 8 kHz mu-law are 16 kB/s: the limit is reached after about 12 s of the 16 s call. It
  // holds for each file of the process, so it stays above what the call store's SQLite files reach: the
  // database some 140 kB (eight migrations), its write-ahead log a migration at most (emptied after each),
  // then this call's record. (libpulse, which espeak-ng loads, prints "ftruncate() failed" at start: its 64 MB
  // memfd is over the limit.)
  gateway_process gw(service_env({{"RECORD_CALLS", "1"}, {"ADMIN_TOKEN", admin}}), {"prlimit", "--fsize=200000"});
  const auto port = gw.port();
  client_loop client;
  const auto audio = speech(800, 3);
  auto o = caller(port, audio);
  o.hang_up_after_bytes = call::make_greeting_tone().size() + audio.size();
  o.linger = 20s;
  auto s = client.get(sim::run_call(o));
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.received_audio == concat(call::make_greeting_tone(), audio));  // unharmed, byte-exact
  BOOST_TEST_REQUIRE(gw.wait_for_log("recording stopped: the call goes on without it"), gw.log());
  BOOST_TEST_REQUIRE(gw.wait_for_log("info call ended"), gw.log());
  auto metrics = client.get(http_call(port, http::verb::get, "/metrics"));
  BOOST_TEST(metrics.body.find("voicebridge_recording_failures_total{reason=\"disk_full\"} 1") != std::string::npos);
  http_result record;
  for (int i = 0; i < 20 && record.status != 200; ++i) {
    std::this_thread::sleep_for(100ms);
    record = client.get(http_call(port, http::verb::get, "/api/calls/" + s.call_sid, {}, {{"Authorization", "Bearer " + admin}}));
  }
  BOOST_TEST_REQUIRE(record.status == 200u, gw.log());
  BOOST_TEST(record.body.find("\"outcome\":\"agent\"") != std::string::npos, record.body);
  BOOST_TEST(record.body.find("\"recording_url\":\"/api/calls/") != std::string::npos, record.body);  // what was kept
  gw.signal(SIGTERM);
  BOOST_TEST(gw.wait_exit(10s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(service_threads)

// Several io threads, one io_context each, the agent client included: every call byte-exact both ways, and
// each call's stream run on the io thread of its pre-warmed conversation (its URL named it).
// (Under the ThreadSanitizer build this is the data-race check of the multi-threaded server.)
BOOST_AUTO_TEST_CASE(twenty_calls_over_four_threads_are_byte_exact_and_metrics_pass_promtool) {
  client_loop client;
  fake::agent_script script;
  script.greeting = speech(10, 9);
  std::promise<std::uint16_t> agent_port;
  std::unique_ptr<fake::fake_agent_server> agent;
  asio::post(client.io, [&] {
    agent = std::make_unique<fake::fake_agent_server>(client.io, script);
    agent_port.set_value(agent->port());
  });
  const auto fake_port = agent_port.get_future().get();
  gateway_process gw(service_env({{"THREADS", "4"},
                                  {"ELEVENLABS_AGENT_ID", "agent_threads"},
                                  {"ELEVENLABS_BASE_URL", "http://127.0.0.1:" + std::to_string(fake_port)},
                                  {"METRICS_ADDRESS", "127.0.0.1:0"}}));
  const auto port = gw.port();
  std::vector<std::vector<std::uint8_t>> audio;
  std::vector<std::future<sim::call_summary>> calls;
  for (unsigned i = 0; i < 20; ++i) {
    audio.push_back(speech(50, 100 + i));
    auto o = caller(port, audio.back());
    o.hang_up_after_bytes = script.greeting.size() + audio.back().size();  // sanitizer builds are slow
    o.linger = 20s;
    calls.push_back(client.spawn(sim::run_call(o)));
  }
  for (unsigned i = 0; i < calls.size(); ++i) {
    auto s = ready(calls[i]);
    auto expected = script.greeting;
    expected.insert(expected.end(), audio[i].begin(), audio[i].end());
    BOOST_TEST(s.error == "");
    BOOST_TEST(s.received_audio == expected, "call " << i);
  }

  BOOST_TEST_REQUIRE(gw.wait_for_log("metrics listening"));
  const auto metrics_port = static_cast<std::uint16_t>(gw.log_value("metrics listening", "port").value_or(0));
  std::string body;
  for (int i = 0; i < 50; ++i) {  // the gateway ends its side of the calls just after the callers
    body = client.get(http_call(metrics_port, http::verb::get, "/metrics")).body;
    if (body.find("voicebridge_calls_total{outcome=\"agent\"} 20\n") != std::string::npos &&
        body.find("voicebridge_active_calls 0\n") != std::string::npos)
      break;
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(body.find("voicebridge_calls_total{outcome=\"agent\"} 20\n") != std::string::npos, body);
  BOOST_TEST(body.find("voicebridge_caller_frames_total{direction=\"in\"} 1000\n") != std::string::npos);
  BOOST_TEST(body.find("voicebridge_active_calls 0\n") != std::string::npos);
  BOOST_TEST(body.find("voicebridge_agent_connect_seconds_count 20\n") != std::string::npos);
  BOOST_TEST(body.find("voicebridge_prewarms_total{result=\"hit\"} 20\n") != std::string::npos);
  BOOST_TEST(body.find("adopted_across_threads") == std::string::npos);

  if (std::system("command -v promtool >/dev/null") != 0) {
    BOOST_TEST_MESSAGE("promtool not installed: exposition checked by the metrics_format unit test only");
  } else {
    const std::string file = "/tmp/voicebridge-metrics-" + std::to_string(::getpid()) + ".txt";
    std::ofstream(file) << body;
    BOOST_TEST(std::system(("promtool check metrics < " + file).c_str()) == 0);
    std::remove(file.c_str());
  }
  gw.signal(SIGTERM);
  BOOST_TEST(gw.wait_exit(10s).value_or(-1) == 0);
  std::promise<void> gone;  // the fake lives on the client loop: destroy it there, and wait
  asio::post(client.io, [&] {
    agent.reset();
    gone.set_value();
  });
  gone.get_future().wait();
}

BOOST_AUTO_TEST_SUITE_END()
