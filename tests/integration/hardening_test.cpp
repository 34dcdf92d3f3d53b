// What an outside review found when it tried the gateway as an attacker and as a careless network would
// treat it, each on a real in-process gateway over loopback: unauthenticated sockets and call slots, close
// codes toward a peer that is still sending, the outcome of a protocol violation, 429 backoff, a hung agent,
// and webhooks signed as Twilio's helper libraries sign repeated values.
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "call/local_agent.hpp"
#include "call/playback.hpp"
#include "integration/gateway_fixture.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

using client_ws = websocket::stream<beast::tcp_stream>;

// A stream socket from `local_address` (anywhere in 127.0.0.0/8: another source on loopback) that upgrades,
// signed or not, and then sends nothing; the test holds it open. Its upgrade status is in `status`.
asio::awaitable<std::unique_ptr<client_ws>> idle_upgrade(std::uint16_t port, std::string local_address,
                                                         std::string signature, unsigned& status) {
  auto ws = std::make_unique<client_ws>(co_await asio::this_coro::executor);
  auto& socket = ws->next_layer().socket();
  socket.open(asio::ip::tcp::v4());
  socket.bind({asio::ip::make_address(local_address), 0});
  co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  ws->set_option(websocket::stream_base::decorator([signature](websocket::request_type& req) {
    if (!signature.empty()) req.set("X-Twilio-Signature", signature);
  }));
  websocket::response_type res;
  auto [ec] = co_await ws->async_handshake(res, "gw.example.test", "/ws/twilio/stream", asio::as_tuple(asio::use_awaitable));
  status = res.result_int();
  co_return ws;
}

struct violation {
  const char* name;
  int close_code;
  bool started;        // authenticated `start` first
  raw_frame message;   // then this
};

// A peer that commits `v` and goes on writing (a 4 MiB message, or the 20 MiB oversized one itself) while it
// reads: the close frame must reach it, not a reset.
asio::awaitable<int> violate_while_sending(std::uint16_t port, std::string signature, violation v) {
  client_ws ws(co_await asio::this_coro::executor);
  co_await ws.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  ws.next_layer().expires_after(30s);
  ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) { req.set("X-Twilio-Signature", signature); }));
  co_await ws.async_handshake("gw.example.test", "/ws/twilio/stream", asio::use_awaitable);
  ws.next_layer().expires_never();
  if (v.started) {
    const std::string start = start_without_token("CA" + std::string(32, 'v'));
    co_await ws.async_write(asio::buffer(start), asio::use_awaitable);
  }
  int code = -1;
  auto writer = [&]() -> asio::awaitable<void> {
    ws.binary(v.message.binary);
    auto [ec, n] = co_await ws.async_write(asio::buffer(v.message.data), asio::as_tuple(asio::use_awaitable));
    if (ec || v.message.data.size() > (1u << 20)) co_return;
    const std::string more(4u << 20, 'x');  // and keeps sending while the gateway closes
    ws.text(true);
    co_await ws.async_write(asio::buffer(more), asio::as_tuple(asio::use_awaitable));
  };
  auto reader = [&]() -> asio::awaitable<void> {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
      buffer.consume(buffer.size());
      if (ec == websocket::error::closed) code = ws.reason().code;
      if (ec) co_return;
    }
  };
  asio::steady_timer cap(co_await asio::this_coro::executor, 30s);
  co_await ((writer() && reader()) || cap.async_wait(asio::use_awaitable));
  co_return code;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hardening)

// Twice MAX_CALLS sockets that upgrade and never send `start` (from another address, holding their places):
// the signed webhook is still answered with a stream, not "all our lines are busy", and its call is served.
// Past the per-address share, a further socket from that address is refused with 503 and counted, while a
// socket from elsewhere is not.
BOOST_AUTO_TEST_CASE(unauthenticated_sockets_never_take_call_slots) {
  auto config = gateway_config();
  config.max_calls = 2;
  config.stream_auth_timeout = 20s;  // the idle sockets stay for the whole test
  config.max_pending_streams_per_address = 4;
  gateway gw(config);
  const auto refused_before = app::metrics().limit_hits.value("pending_streams_per_address");
  std::vector<std::unique_ptr<client_ws>> idle;
  for (int i = 0; i < 4; ++i) {
    unsigned status = 0;
    const std::string signature = i % 2 ? stream_signature(gw.server->config()) : "";  // a replayed signature too
    idle.push_back(gw.run(idle_upgrade(gw.port, "127.0.0.2", signature, status)));
    BOOST_TEST(status == 101u);
  }
  BOOST_TEST(gw.server->pending_streams() == 4u);
  BOOST_TEST(gw.server->active_calls() == 0u);
  unsigned fifth = 0;
  auto refused = gw.run(idle_upgrade(gw.port, "127.0.0.2", "", fifth));
  BOOST_TEST(fifth == 503u);
  BOOST_TEST(app::metrics().limit_hits.value("pending_streams_per_address") == refused_before + 1);

  const auto audio = speech(25, 7);
  auto s = gw.run(sim::run_call(gw.caller(audio, call::make_greeting_tone().size() + audio.size())));
  BOOST_TEST(s.twiml.find("<Connect") != std::string::npos, s.twiml);
  BOOST_TEST(s.upgrade_status == 101u);
  BOOST_TEST(s.received_audio.size() == call::make_greeting_tone().size() + audio.size());
  BOOST_TEST(gw.server->pending_streams() == 4u);  // still waiting, and harmless
  idle.clear();
  refused.reset();
  gw.settle();
  BOOST_TEST(gw.server->pending_streams() == 0u);
}

// The close code reaches a peer that is still sending when the gateway closes: 1009 for an oversized
// message (Beast's own limit would reset the socket: 1006), and 1003, 1007, 1008 for the other violations.
BOOST_AUTO_TEST_CASE(close_codes_reach_a_peer_that_is_still_sending) {
  auto config = gateway_config();
  config.admin_token = test_admin_token;
  gateway gw(config);
  const auto protocol_errors_before = app::metrics().calls.value("protocol_error");
  const std::string media_first = twilio::serialize_inbound_media("MZ1", {1, "inbound", 1, 0, "AAAA"});
  const std::vector<violation> violations{
      {"oversized message", 1009, true, {std::string(20u << 20, 'x'), false}},
      {"binary frame", 1003, true, {std::string(64, '\x01'), true}},
      {"invalid JSON", 1007, true, {"{\"event\":", false}},
      {"media before start", 1008, false, {media_first, false}},
  };
  for (const auto& v : violations) {
    const int code = gw.run(violate_while_sending(gw.port, stream_signature(gw.server->config()), v));
    BOOST_TEST(code == v.close_code, v.name << ": the peer saw " << code);
    gw.settle();
  }
  // The three after an authenticated start are recorded as what they were, not as served by the agent.
  BOOST_TEST(app::metrics().calls.value("protocol_error") == protocol_errors_before + 3);
  auto record = call_record(gw, "CA" + std::string(32, 'v'));
  BOOST_TEST(std::string(record.at("outcome").as_string()) == "protocol_error");
}

BOOST_AUTO_TEST_CASE(a_protocol_violation_is_its_own_outcome_and_end_reason) {
  auto config = gateway_config();
  config.admin_token = test_admin_token;
  gateway gw(config);
  const std::string call_sid = "CA" + std::string(32, 'p');
  auto r = gw.run(raw_stream(gw.port, stream_signature(gw.server->config()),
                             {{start_without_token(call_sid)}, {std::string(8, '\x02'), true}}));
  BOOST_TEST(r.close_code == 1003);
  gw.settle();
  auto record = call_record(gw, call_sid);
  BOOST_TEST(std::string(record.at("outcome").as_string()) == "protocol_error");
  BOOST_TEST(std::string(record.at("end_reason").as_string()) == "binary frame");
}

// An agent that answers 429 is tried again after exponential, jittered waits (at least 100 ms, then 200 ms),
// not at once; when it stays busy the caller hears the fallback prompt within 2 s of `start` all the same.
BOOST_AUTO_TEST_CASE(a_busy_agent_is_retried_after_a_backoff_within_the_fallback_budget) {
  fake::agent_script busy_twice;
  busy_twice.greeting = speech(12, 99);
  busy_twice.refuse_first_upgrades = 2;
  busy_twice.refuse_first_status = 429;
  auto config = gateway_config();
  config.prewarm = false;  // every attempt is the call's own, from its `start`
  {
    gateway gw(config, busy_twice);
    const auto retries_before = app::metrics().agent_retries.value("rate_limited");
    auto s = gw.run(sim::run_call(gw.caller(speech(50, 5), busy_twice.greeting.size())));
    gw.settle();
    const auto& attempts = gw.agent->record().upgrade_attempts;
    BOOST_TEST_REQUIRE(attempts.size() == 3u);
    BOOST_TEST((attempts[1] - attempts[0] >= 100ms));
    BOOST_TEST((attempts[2] - attempts[1] >= 200ms));
    BOOST_TEST(gw.agent->record().conversations == 1);
    BOOST_TEST((std::search(s.received_audio.begin(), s.received_audio.end(), busy_twice.greeting.begin(),
                            busy_twice.greeting.end()) != s.received_audio.end()));
    BOOST_TEST(app::metrics().agent_retries.value("rate_limited") == retries_before + 2);
  }
  fake::agent_script always_busy = busy_twice;
  always_busy.refuse_upgrade_status = 429;
  always_busy.refuse_first_upgrades = 0;
  gateway gw(config, always_busy);
  auto s = gw.run(sim::run_call(gw.caller(speech(100, 6))));
  gw.settle();
  BOOST_TEST(heard_fallback(s, *gw.server));
  BOOST_TEST(s.time_to_first_audio.value_or(1h).count() < 2000);
  BOOST_TEST(gw.agent->record().upgrade_attempts.size() >= 3u);  // the budget holds two waits at least
  BOOST_TEST(gw.logs.str().find("reason=rate_limited") != std::string::npos);
}

// An agent whose socket stays open but says nothing, not even a ping: with the default AGENT_IDLE_TIMEOUT_MS
// the caller waits no more than about 10 s in silence before the fallback prompt, and it is counted.
BOOST_AUTO_TEST_CASE(a_hung_agent_costs_the_caller_at_most_about_ten_seconds_of_silence) {
  BOOST_TEST((app::config{}.agent_idle_timeout <= 10s));
  fake::agent_script hung;
  hung.silent_after_metadata = true;
  gateway gw(gateway_config(), hung);
  const auto hits_before = app::metrics().limit_hits.value("agent_idle_timeout");
  auto o = gw.caller({}, gw.server->fallback_prompt().size());
  o.keep_streaming = true;  // silence, 50 frames a second, as Twilio sends for a quiet caller
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST(heard_fallback(s, *gw.server));
  BOOST_TEST(s.time_to_first_audio.value_or(1h).count() <= 10000);
  BOOST_TEST(s.time_to_first_audio.value_or(0ms).count() >= 7000);  // not before the agent had its chance
  std::string agent_lines;  // what the gateway said of the agent, should a check fail
  std::istringstream lines(gw.logs.str());
  for (std::string line; std::getline(lines, line);)
    if (line.find("agent") != std::string::npos) agent_lines += line + "\n";
  BOOST_TEST(app::metrics().limit_hits.value("agent_idle_timeout") == hits_before + 1, agent_lines);
}

// A webhook that repeats a name with the same value, signed as twilio-node signs it (the pair once), is
// accepted like one signed as twilio-python signs it (every occurrence).
BOOST_AUTO_TEST_CASE(repeated_identical_values_signed_by_either_helper_library_are_accepted) {
  gateway gw;
  const auto& c = gw.server->config();
  auto form = voice_form("CA" + std::string(32, 'd'));
  form.add("Digits", "12");
  form.add("Digits", "12");
  for (auto payload : {twilio::payload_form::deduplicated, twilio::payload_form::as_sent}) {
    const auto signature = twilio::compute_signature(c.twilio_auth_token, c.public_base_url + "/api/twilio/voice/inbound", form, payload);
    auto r = gw.run(http_call(gw.port, http::verb::post, "/api/twilio/voice/inbound", twilio::encode_form(form),
                              {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", signature}}));
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.body.find("<Connect") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
