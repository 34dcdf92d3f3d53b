// Operating limits, metrics and log redaction, on a real in-process gateway over loopback.
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <regex>

#include "integration/gateway_fixture.hpp"
#include "call/local_agent.hpp"
#include "call/playback.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/util/base64.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;


BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(over_max_calls_the_webhook_answers_busy) {
  auto config = gateway_config();
  config.max_calls = 2;
  gateway gw(config);
  const auto busy_before = app::metrics().calls.value("busy");
  const auto& c = gw.server->config();
  // Two webhooks take both slots (their streams have not arrived yet); a retry of one is not a new call.
  const std::string a = "CA" + std::string(32, 'a'), b = "CA" + std::string(32, 'b'), x = "CA" + std::string(32, 'c');
  auto first = gw.run(signed_post(gw.port, c, std::string(app::voice_webhook_path), voice_form(a)));
  auto second = gw.run(signed_post(gw.port, c, std::string(app::voice_webhook_path), voice_form(b)));
  auto retry = gw.run(signed_post(gw.port, c, std::string(app::voice_webhook_path), voice_form(a)));
  auto third = gw.run(signed_post(gw.port, c, std::string(app::voice_webhook_path), voice_form(x)));
  BOOST_TEST(first.body.find("<Connect") != std::string::npos);
  BOOST_TEST(second.body.find("<Connect") != std::string::npos);
  BOOST_TEST(retry.body.find("<Connect") != std::string::npos);
  BOOST_TEST(third.status == 200u);
  BOOST_TEST(third.body.find("<Connect") == std::string::npos);
  BOOST_TEST(third.body.find(c.busy_message) != std::string::npos);
  BOOST_TEST(third.body.find("<Hangup/>") != std::string::npos);
  BOOST_TEST(app::metrics().calls.value("busy") == busy_before + 1);
  BOOST_TEST(gw.logs.str().find("at MAX_CALLS, answering busy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(calls_beyond_the_limit_while_streams_run_are_busy_and_the_rest_unharmed) {
  auto config = gateway_config();
  config.max_calls = 1;
  gateway gw(config);
  const auto speech_a = speech(50, 1);
  std::optional<sim::call_summary> running;
  asio::co_spawn(gw.io, sim::run_call(gw.caller(speech_a)), [&](std::exception_ptr e, sim::call_summary s) {
    if (e) std::rethrow_exception(e);
    running = std::move(s);
  });
  gw.run_until([&] { return gw.server->active_calls() == 1; });
  auto refused = gw.run(sim::run_call(gw.caller(speech(5, 2))));
  BOOST_TEST(refused.webhook_status == 200u);
  BOOST_TEST(refused.upgrade_status == 0u);  // busy TwiML has no <Stream>: no stream was opened
  BOOST_TEST(refused.twiml.find(gw.server->config().busy_message) != std::string::npos);
  gw.run_until([&] { return running.has_value(); });
  BOOST_TEST(running->error == "");
  BOOST_TEST(running->received_audio.size() == call::make_greeting_tone().size() + speech_a.size());
}

// A Twilio stream for call `id` that has sent `start` and then nothing more; the test decides what follows. A
// small receive window (`receive_window` bytes, 0 for the system's) makes the gateway's writes block sooner;
// so does an Ethernet-sized segment (`ethernet_mss`): Linux sizes a sender's first buffer from the segment
// size, which is 64 KiB on loopback (a 4 MiB buffer at once) and about 1.4 KiB on a real network.
asio::awaitable<websocket::stream<beast::tcp_stream>> started_stream(const gateway& gw, char id, int receive_window = 0,
                                                                     bool ethernet_mss = false) {
  websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
  auto& socket = ws.next_layer().socket();
  socket.open(asio::ip::tcp::v4());
  if (receive_window) socket.set_option(asio::socket_base::receive_buffer_size(receive_window));
  if (ethernet_mss) socket.set_option(asio::detail::socket_option::integer<IPPROTO_TCP, TCP_MAXSEG>(1400));
  co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), gw.port}, asio::use_awaitable);
  const std::string signature = stream_signature(gw.server->config());
  ws.set_option(websocket::stream_base::decorator(
      [&](websocket::request_type& req) { req.set("X-Twilio-Signature", signature); }));
  co_await ws.async_handshake("gw.example.test", "/ws/twilio/stream", asio::use_awaitable);
  twilio::start_message start;
  start.stream_sid = "MZ" + std::string(32, id);
  start.call_sid = "CA" + std::string(32, id);
  const std::string start_text = twilio::serialize_start(start);
  const auto active_before = gw.server->active_calls();
  co_await ws.async_write(asio::buffer(start_text), asio::use_awaitable);
  // A stream counts as a call once its start is authenticated: wait for that, so tests can watch the count.
  asio::steady_timer wait(co_await asio::this_coro::executor);
  for (int i = 0; i < 200 && gw.server->active_calls() <= active_before; ++i) {
    wait.expires_after(10ms);
    co_await wait.async_wait(asio::use_awaitable);
  }
  co_return ws;
}

// A Twilio peer that stops reading holds the gateway's writes once the socket buffers are full: after
// WRITE_TIMEOUT_MS the call is dropped (counted, logged) and the gateway goes on serving other calls.
BOOST_AUTO_TEST_CASE(a_peer_that_stops_reading_is_dropped_after_the_write_timeout) {
  auto config = gateway_config();
  config.write_timeout = 400ms;
  gateway gw(config);
  const auto before = app::metrics().limit_hits.value("write_timeout");
  bool client_done = false;
  auto stalled_caller = [&]() -> asio::awaitable<void> {
    auto ws = co_await started_stream(gw, 'w', 4096);
    // Once the greeting is out, frames as fast as the gateway takes them: the local echo agent answers each at
    // once, and nobody reads. 16,000 answers (5 MiB) outgrow the largest send buffer Linux gives a socket (4 MiB).
    asio::steady_timer wait(co_await asio::this_coro::executor, 1500ms);
    co_await wait.async_wait(asio::use_awaitable);
    const std::string frame = twilio::serialize_inbound_media("MZ" + std::string(32, 'w'), {2, "inbound", 1, 0, std::string(216, 'A')});
    for (int i = 0; i < 16000; ++i) {
      auto [ec, n] = co_await ws.async_write(asio::buffer(frame), asio::as_tuple(asio::use_awaitable));
      if (ec) break;  // the gateway dropped us
    }
    for (int i = 0; i < 100 && gw.server->active_calls() > 0; ++i) {
      wait.expires_after(100ms);
      co_await wait.async_wait(asio::use_awaitable);
    }
    client_done = true;
  };
  asio::co_spawn(gw.io, stalled_caller(), asio::detached);
  gw.run_until([&] { return client_done; });
  BOOST_TEST(gw.server->active_calls() == 0u);
  BOOST_TEST(app::metrics().limit_hits.value("write_timeout") == before + 1);
  BOOST_TEST(gw.logs.str().find("reason=\"write timeout\"") != std::string::npos, gw.logs.str().substr(0, 2000));
  const auto audio = speech(10, 3);
  const auto expected = call::make_greeting_tone().size() + audio.size();
  auto next = gw.run(sim::run_call(gw.caller(audio, expected)));
  BOOST_TEST(next.error == "");
  BOOST_TEST(next.received_audio.size() == expected);
}

// Agent audio that piles up behind a caller's full socket (here an agent's 8 s greeting, sent at once, to a
// caller with a 4 KiB window that reads nothing for a second) leaves in fewer, larger media messages: the same
// bytes in the same order, the turn's mark still before them, and the merged chunks counted.
BOOST_AUTO_TEST_CASE(agent_audio_queued_behind_a_busy_socket_leaves_in_fewer_messages) {
  fake::agent_script script;
  script.greeting = speech(400, 7);  // 64,000 bytes (8 s): 80 audio events of 800 bytes
  const std::size_t chunks = script.greeting.size() / 800;
  gateway gw(gateway_config(), script);
  const auto coalesced_before = app::metrics().coalesced_audio_chunks.value();
  std::vector<std::uint8_t> heard;
  std::size_t media_messages = 0, marks_before_audio = 0;
  bool client_done = false;
  auto slow_caller = [&]() -> asio::awaitable<void> {
    auto ws = co_await started_stream(gw, 'b', 4096, true);
    asio::steady_timer wait(co_await asio::this_coro::executor, 1000ms);
    co_await wait.async_wait(asio::use_awaitable);
    beast::flat_buffer buffer;
    while (heard.size() < script.greeting.size()) {
      auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      auto message = twilio::parse_outbound(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      BOOST_REQUIRE(message.has_value());
      if (auto* media = std::get_if<twilio::outbound_media>(&message->message)) {
        ++media_messages;
        auto bytes = util::base64_decode(media->payload);
        heard.insert(heard.end(), bytes->begin(), bytes->end());
      } else if (std::holds_alternative<twilio::outbound_mark>(message->message) && heard.empty()) {
        ++marks_before_audio;
      }
    }
    co_await ws.async_close(websocket::close_code::normal, asio::as_tuple(asio::use_awaitable));
    client_done = true;
  };
  asio::co_spawn(gw.io, slow_caller(), asio::detached);
  gw.run_until([&] { return client_done; });
  gw.settle();
  BOOST_TEST(heard == script.greeting);
  BOOST_TEST(marks_before_audio == 1u);
  BOOST_TEST_MESSAGE(media_messages << " media messages for " << chunks << " chunks");
  BOOST_TEST(media_messages < chunks);
  BOOST_TEST(app::metrics().coalesced_audio_chunks.value() - coalesced_before == chunks - media_messages);
}

// Twilio sends media every 20 ms, even in silence: a stream that goes quiet and does not answer the gateway's
// ping is dead, and dropped after TWILIO_IDLE_TIMEOUT_MS (not before).
BOOST_AUTO_TEST_CASE(a_caller_silent_past_the_idle_timeout_is_dropped) {
  auto config = gateway_config();
  config.twilio_idle_timeout = 600ms;
  gateway gw(config);
  const auto before = app::metrics().limit_hits.value("twilio_idle_timeout");
  std::chrono::steady_clock::duration lasted{};
  bool client_done = false;
  auto silent_caller = [&]() -> asio::awaitable<void> {
    const auto started = std::chrono::steady_clock::now();  // before `start`: the gateway's clock starts later
    auto ws = co_await started_stream(gw, 'i');
    asio::steady_timer wait(co_await asio::this_coro::executor);
    for (int i = 0; i < 500 && gw.server->active_calls() > 0; ++i) {  // reads nothing: no pong either
      wait.expires_after(10ms);
      co_await wait.async_wait(asio::use_awaitable);
    }
    lasted = std::chrono::steady_clock::now() - started;
    client_done = true;
  };
  asio::co_spawn(gw.io, silent_caller(), asio::detached);
  gw.run_until([&] { return client_done; });
  BOOST_TEST(gw.server->active_calls() == 0u);
  BOOST_TEST(lasted >= 600ms);
  BOOST_TEST(app::metrics().limit_hits.value("twilio_idle_timeout") == before + 1);
  BOOST_TEST(gw.logs.str().find("end=\"idle timeout\"") != std::string::npos, gw.logs.str().substr(0, 3000));
}

// Reads (and so answers pings) until the stream closes; what it reads is the greeting.
asio::awaitable<void> read_until_closed(std::shared_ptr<websocket::stream<beast::tcp_stream>> ws) {
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws->async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    buffer.consume(n);
  }
}

// A quiet caller that still answers pings (its WebSocket reads, so pongs go back) is alive: kept well past
// the idle timeout.
BOOST_AUTO_TEST_CASE(a_quiet_caller_that_answers_pings_is_kept) {
  auto config = gateway_config();
  config.twilio_idle_timeout = 600ms;
  gateway gw(config);
  const auto before = app::metrics().limit_hits.value("twilio_idle_timeout");
  std::size_t active_after_idle = 0;
  bool client_done = false;
  auto quiet_caller = [&]() -> asio::awaitable<void> {
    auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(co_await started_stream(gw, 'q'));
    asio::co_spawn(co_await asio::this_coro::executor, read_until_closed(ws), asio::detached);
    asio::steady_timer wait(co_await asio::this_coro::executor, 2500ms);  // four idle timeouts
    co_await wait.async_wait(asio::use_awaitable);
    active_after_idle = gw.server->active_calls();
    co_await ws->async_close(websocket::close_code::normal, asio::as_tuple(asio::use_awaitable));
    client_done = true;
  };
  asio::co_spawn(gw.io, quiet_caller(), asio::detached);
  gw.run_until([&] { return client_done; });
  BOOST_TEST(active_after_idle == 1u);
  BOOST_TEST(app::metrics().limit_hits.value("twilio_idle_timeout") == before);
}

BOOST_AUTO_TEST_CASE(oversize_header_is_431_and_counted) {
  auto config = gateway_config();
  config.max_http_header = 2048;
  gateway gw(config);
  const auto before = app::metrics().limit_hits.value("http_header_size");
  auto r = gw.run(http_call(gw.port, http::verb::get, "/healthz", "", {{"X-Padding", std::string(4096, 'p')}}));
  BOOST_TEST(r.status == 431u);
  BOOST_TEST(app::metrics().limit_hits.value("http_header_size") == before + 1);
  BOOST_TEST(gw.run(http_call(gw.port, http::verb::get, "/healthz")).status == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(metrics_live)

BOOST_AUTO_TEST_CASE(one_call_moves_the_counters) {
  auto& m = app::metrics();
  const auto served = m.calls.value("agent");
  const auto frames_in = m.frames_from_caller.value(), frames_out = m.frames_to_caller.value();
  const auto bytes_out = m.bytes_to_caller.value(), coalesced = m.coalesced_audio_chunks.value();
  const auto ttfa = m.first_agent_audio_seconds.count();
  const auto status_200 = m.webhook_responses.value("200");
  gateway gw;
  auto s = gw.run(sim::run_call(gw.caller(speech(20, 4))));
  gw.settle();
  BOOST_TEST(s.error == "");
  BOOST_TEST(m.calls.value("agent") == served + 1);
  BOOST_TEST(m.frames_from_caller.value() - frames_in == 20u);
  // Every chunk the agent sent reached the caller: alone, or inside the message of the chunk before it (the echo
  // of what the caller said during the greeting is queued at once, and merged).
  BOOST_TEST(m.frames_to_caller.value() - frames_out == s.frames_received + (m.coalesced_audio_chunks.value() - coalesced));
  BOOST_TEST(m.bytes_to_caller.value() - bytes_out == s.bytes_received);
  BOOST_TEST(m.first_agent_audio_seconds.count() == ttfa + 1);
  BOOST_TEST(m.webhook_responses.value("200") == status_200 + 1);
  BOOST_TEST(m.active_calls.value() == 0);
  auto r = gw.run(http_call(gw.port, http::verb::get, "/metrics"));
  BOOST_TEST(r.status == 200u);
  BOOST_TEST(r.body.find("voicebridge_calls_total{outcome=\"agent\"}") != std::string::npos);
  BOOST_TEST(r.body.find("voicebridge_caller_audio_coalesced_total ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(admin_address_serves_metrics_and_the_main_port_does_not) {
  auto config = gateway_config();
  config.metrics_address = "127.0.0.1:0";
  gateway gw(config);
  BOOST_TEST_REQUIRE(gw.server->metrics_port() != 0);
  auto on_admin = gw.run(http_call(gw.server->metrics_port(), http::verb::get, "/metrics"));
  auto on_main = gw.run(http_call(gw.port, http::verb::get, "/metrics"));
  auto webhook_on_admin = gw.run(http_call(gw.server->metrics_port(), http::verb::post, "/api/twilio/voice/inbound"));
  BOOST_TEST(on_admin.status == 200u);
  BOOST_TEST(on_admin.body.find("# TYPE voicebridge_active_calls gauge") != std::string::npos);
  BOOST_TEST(on_main.status == 404u);
  BOOST_TEST(webhook_on_admin.status == 404u);
}

BOOST_AUTO_TEST_CASE(draining_answers_503_to_new_calls_and_health_while_calls_go_on) {
  gateway gw;
  const auto audio = speech(60, 5);
  std::optional<sim::call_summary> running;
  asio::co_spawn(gw.io, sim::run_call(gw.caller(audio)), [&](std::exception_ptr e, sim::call_summary s) {
    if (e) std::rethrow_exception(e);
    running = std::move(s);
  });
  gw.run_until([&] { return gw.server->active_calls() == 1; });
  gw.server->begin_drain();
  const auto& c = gw.server->config();
  auto health = gw.run(http_call(gw.port, http::verb::get, "/healthz"));
  auto webhook = gw.run(signed_post(gw.port, c, std::string(app::voice_webhook_path), voice_form("CA" + std::string(32, 'd'))));
  BOOST_TEST(health.status == 503u);
  BOOST_TEST(webhook.status == 503u);
  gw.run_until([&] { return running.has_value(); });
  BOOST_TEST(running->received_audio.size() == call::make_greeting_tone().size() + audio.size());
}

BOOST_AUTO_TEST_CASE(end_calls_closes_the_stream_and_the_agent_socket_cleanly) {
  auto script = fake::agent_script{};
  gateway gw(gateway_config(), script);
  std::optional<sim::call_summary> running;
  auto o = gw.caller(speech(500, 6));
  asio::co_spawn(gw.io, sim::run_call(o), [&](std::exception_ptr e, sim::call_summary s) {
    if (e) std::rethrow_exception(e);
    running = std::move(s);
  });
  gw.run_until([&] { return gw.agent->record().caller_audio.size() > 1600; });
  gw.server->end_calls();
  gw.run_until([&] { return running.has_value(); });
  gw.settle();
  BOOST_TEST(running->server_closed);
  BOOST_TEST(running->close_code.value_or(0) == 1001);
  BOOST_TEST(running->frames_sent < 500u);
  BOOST_TEST(gw.logs.str().find("close_code=1000") != std::string::npos);  // the agent socket closed normally
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(redaction)

// A full call with every kind of credential in play (auth token, stream-token key, per-call stream token,
// signed upgrade, API key, signed URL), at debug level, in both formats: none may reach the log.
BOOST_AUTO_TEST_CASE(no_secret_reaches_the_log_at_debug_level) {
  for (auto format : {app::log_format::text, app::log_format::json}) {
    fake::agent_script script;
    script.api_key = "xi-redaction-api-key-5566778899";
    script.greeting = speech(5, 7);
    auto config = gateway_config();
    config.elevenlabs_api_key = script.api_key;
    config.log_format_ = format;
    gateway gw(config, script);
    app::configure_logging(app::log_level::debug, format);
    app::add_log_secret(script.api_key);  // as main() registers it
    auto s = gw.run(sim::run_call(gw.caller(speech(25, 8))));
    gw.settle();
    BOOST_TEST_REQUIRE(s.error == "");
    BOOST_TEST(s.received_audio.size() == script.greeting.size() + 25 * 160u);
    const auto logs = gw.logs.str();
    BOOST_TEST(logs.size() > 1000u);
    std::string per_call_token;
    for (auto& [name, value] : s.parameters)
      if (name == "stream_token") per_call_token = value;
    BOOST_TEST_REQUIRE(!per_call_token.empty());
    const auto& c = gw.server->config();
    for (const std::string& secret : {c.twilio_auth_token, c.twilio_stream_token, per_call_token,
                                      stream_signature(c), script.api_key})
      BOOST_TEST(logs.find(secret) == std::string::npos, "secret in the log: " << secret.substr(0, 4) << "...");
    BOOST_TEST(!std::regex_search(logs, std::regex("sig[0-9]+x[0-9]+")), "a signed URL's signature was logged");
    BOOST_TEST(gw.agent->record().signed_urls_issued == 1);
  }
}

BOOST_AUTO_TEST_SUITE_END()
