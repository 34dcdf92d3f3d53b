// End-to-end tests: the real server on loopback, driven by the Twilio simulator and raw clients.
#include "integration/gateway_fixture.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"

#include "call/local_agent.hpp"
#include "call/playback.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

std::string start_json(const std::string& call_sid, const std::string& token) {
  twilio::start_message s;
  s.sequence_number = 1;
  s.stream_sid = "MZ" + std::string(32, 'a');
  s.call_sid = call_sid;
  s.encoding = "audio/x-mulaw";
  s.sample_rate = 8000;
  s.channels = 1;
  if (!token.empty()) s.custom_parameters = {{"stream_token", token}};
  return twilio::serialize_start(s);
}

std::string valid_token(const app::config& c, const std::string& call_sid) {
  return twilio::mint_stream_token(c.twilio_stream_token, call_sid, "", std::chrono::system_clock::now() + 60s);
}

const std::string call_a = "CA" + std::string(32, '1');

}  // namespace

BOOST_AUTO_TEST_SUITE(webhook_http)

BOOST_AUTO_TEST_CASE(health_and_routing) {
  gateway gw;
  auto r = gw.run_all<http_result>([&] {
    std::vector<boost::asio::awaitable<http_result>> v;
    v.push_back(http_call(gw.port, http::verb::get, "/healthz"));
    v.push_back(http_call(gw.port, http::verb::get, "/nope"));
    v.push_back(http_call(gw.port, http::verb::get, "/api/twilio/voice/inbound"));
    return v;
  }());
  BOOST_TEST(r[0].status == 200u);
  BOOST_TEST(r[1].status == 404u);
  BOOST_TEST(r[2].status == 405u);
}

BOOST_AUTO_TEST_CASE(signed_webhook_gets_twiml_unsigned_gets_403) {
  gateway gw;
  auto signed_call = gw.caller();
  signed_call.linger = 0ms;
  auto unsigned_call = gw.caller();
  unsigned_call.sign_webhook = false;
  auto s = gw.run(sim::run_call(signed_call));
  BOOST_TEST(s.webhook_status == 200u);
  BOOST_TEST(s.stream_url == "wss://gw.example.test/ws/twilio/stream");
  auto u = gw.run(sim::run_call(unsigned_call));
  BOOST_TEST(u.webhook_status == 403u);
  BOOST_TEST(u.upgrade_status == 0u);
  BOOST_TEST(gw.logs.str().find("integration-auth-token") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_secrets_answer_500) {
  auto c = gateway_config();
  c.twilio_auth_token.clear();
  gateway gw(c);
  auto r = gw.run(http_call(gw.port, http::verb::post, "/api/twilio/voice/inbound", "CallSid=CA1",
                            {{"Content-Type", "application/x-www-form-urlencoded"}}));
  BOOST_TEST(r.status == 500u);
  BOOST_TEST(gw.logs.str().find("TWILIO_AUTH_TOKEN") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(oversize_body_is_413) {
  auto c = gateway_config();
  c.max_http_body = 1024;
  gateway gw(c);
  auto r = gw.run(http_call(gw.port, http::verb::post, "/api/twilio/voice/inbound", std::string(4096, 'a'),
                            {{"Content-Type", "application/x-www-form-urlencoded"}}));
  BOOST_TEST(r.status == 413u);
}

BOOST_AUTO_TEST_CASE(stream_ended_callback_hangs_up_served_calls) {
  gateway gw;
  auto o = gw.caller(speech(5, 1));
  o.call_sid = call_a;
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST(s.error == "");
  auto ended = [&](const std::string& sid) {
    twilio::form_params f;
    f.add("CallSid", sid);
    return gw.run(signed_post(gw.port, gw.server->config(), "/api/twilio/voice/stream-ended", f));
  };
  auto served = ended(call_a);
  BOOST_TEST(served.status == 200u);
  BOOST_TEST(served.body.find("<Say") == std::string::npos);
  auto never = ended("CA" + std::string(32, '9'));
  BOOST_TEST(never.body.find("<Say") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stream_auth)

BOOST_AUTO_TEST_CASE(forged_expired_and_foreign_tokens_are_closed_with_1008) {
  gateway gw;
  const auto& c = gw.server->config();
  const std::string expired =
      twilio::mint_stream_token(c.twilio_stream_token, call_a, "", std::chrono::system_clock::now() - 1s);
  const std::string foreign = valid_token(c, "CA" + std::string(32, '2'));
  const std::string forged = twilio::mint_stream_token("not-the-real-key-at-all", call_a, "", std::chrono::system_clock::now() + 60s);
  const std::string media = twilio::serialize_inbound_media("MZ1", {2, "inbound", 1, 0, "AAAA"});
  std::vector<boost::asio::awaitable<raw_stream_result>> v;
  for (const auto& token : {expired, foreign, forged, std::string()})
    v.push_back(raw_stream(gw.port, "", {{twilio::serialize_connected()}, {start_json(call_a, token)}, {media}}));
  auto r = gw.run_all(std::move(v));
  for (const auto& x : r) {
    BOOST_TEST(x.upgrade_status == 101u);
    BOOST_TEST(x.close_code == 1008);
    BOOST_TEST(x.media_received == 0u);  // nothing was served to an unauthenticated stream
  }
  BOOST_TEST(r[0].close_reason == "stream token expired");
  BOOST_TEST(r[1].close_reason == "stream token bad_signature");
  BOOST_TEST(r[3].close_reason == "no credentials");
}

BOOST_AUTO_TEST_CASE(wrong_upgrade_signature_is_refused_before_the_upgrade) {
  gateway gw;
  auto r = gw.run(raw_stream(gw.port, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", {}));
  BOOST_TEST(r.upgrade_status == 403u);
  auto o = gw.caller();
  o.auth_token = "someone-elses-token";
  o.sign_webhook = false;
  BOOST_TEST(gw.run(sim::run_call(o)).webhook_status == 403u);
}

// Twilio drops query strings from <Stream url> (Twilio, "TwiML Voice: <Stream>", url attribute), so a query
// token proves nothing and opens nothing: only the upgrade signature or the per-call stream token does.
BOOST_AUTO_TEST_CASE(signed_upgrade_authenticates_and_a_query_token_does_not) {
  gateway gw;
  const auto& c = gw.server->config();
  const std::string media = twilio::serialize_inbound_media("MZ1", {2, "inbound", 1, 0, "AAAA"});
  const std::string stop = twilio::serialize_stop("MZ1", {3, "", call_a});
  std::vector<boost::asio::awaitable<raw_stream_result>> v;
  v.push_back(raw_stream(gw.port, stream_signature(c), {{start_json(call_a, "")}, {media}, {stop}}));
  v.push_back(raw_stream(gw.port, "", {{start_json(call_a, "")}, {media}, {stop}},
                         "/ws/twilio/stream?token=" + c.twilio_stream_token));
  auto r = gw.run_all(std::move(v));
  BOOST_TEST(r[0].close_code == 1000);
  BOOST_TEST(r[0].media_received > 0u);
  BOOST_TEST(r[1].upgrade_status == 101u);
  BOOST_TEST(r[1].close_code == 1008);
  BOOST_TEST(r[1].close_reason == "no credentials");
  BOOST_TEST(r[1].media_received == 0u);
  gw.settle();
  BOOST_TEST(gw.logs.str().find(c.twilio_stream_token) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(silent_socket_and_media_before_start_are_closed) {
  gateway gw;
  std::vector<boost::asio::awaitable<raw_stream_result>> v;
  v.push_back(raw_stream(gw.port, "", {}));
  v.push_back(raw_stream(gw.port, "", {{twilio::serialize_inbound_media("MZ1", {1, "inbound", 1, 0, "AAAA"})}}));
  auto r = gw.run_all(std::move(v));
  BOOST_TEST(r[0].close_code == 1008);
  BOOST_TEST(r[0].close_reason == "no authenticated start in time");
  BOOST_TEST(r[1].close_code == 1008);
  BOOST_TEST(r[1].close_reason == "media before start");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(call_flow)

BOOST_AUTO_TEST_CASE(full_call_with_local_agent_is_byte_exact) {
  gateway gw;
  const auto said = speech(60, 1);
  auto o = gw.caller(said);
  o.call_sid = call_a;
  o.dtmf = {{200ms, '5'}};
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.protocol_errors.empty());
  BOOST_TEST(s.upgrade_status == 101u);
  BOOST_TEST(s.frames_sent == 60u);
  // The agent greets, then echoes everything the caller said, in order, to the byte.
  auto expected = call::make_greeting_tone();
  expected.insert(expected.end(), said.begin(), said.end());
  BOOST_TEST(s.received_audio == expected);
  BOOST_TEST(s.played_audio.size() <= s.received_audio.size());
  BOOST_TEST(s.marks_received == std::vector<std::string>{"greeting-end"});
  BOOST_TEST(s.marks_echoed == 1u);
  BOOST_TEST(s.time_to_first_audio.has_value());
  const auto logs = gw.logs.str();
  for (const char* line : {"info voice webhook accepted call_sid=", "info start call_sid=", "info dtmf call_sid=",
                           "info stop call_sid=", "info call ended call_sid="})
    BOOST_TEST(logs.find(std::string(line) + call_a) != std::string::npos, line);
  BOOST_TEST(logs.find("integration-stream-token-key") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(garbage_on_one_call_leaves_another_untouched) {
  gateway gw;
  const auto& c = gw.server->config();
  const auto said = speech(40, 7);
  auto o = gw.caller(said);
  std::optional<sim::call_summary> good;
  asio::co_spawn(gw.io, sim::run_call(o), [&](std::exception_ptr e, sim::call_summary s) {
    if (e) std::rethrow_exception(e);
    good = std::move(s);
  });
  std::vector<boost::asio::awaitable<raw_stream_result>> bad;
  const auto start = start_json(call_a, valid_token(c, call_a));
  bad.push_back(raw_stream(gw.port, "", {{start}, {"this is not json"}}));
  bad.push_back(raw_stream(gw.port, "", {{start}, {"\x01\x02", true}}));
  bad.push_back(raw_stream(gw.port, "", {{start}, {R"({"event":"media","media":{"payload":"%%%%"}})"}}));
  bad.push_back(raw_stream(gw.port, "", {{start}, {std::string(c.max_ws_message + 1, ' ')}}));
  auto bad_results = gw.run_all(std::move(bad));
  BOOST_TEST(!good.has_value());  // the good call was still running while the bad ones were closed
  gw.run_until([&] { return good.has_value(); });
  BOOST_TEST(bad_results[0].close_code == 1007);
  BOOST_TEST(bad_results[1].close_code == 1003);
  BOOST_TEST(bad_results[2].close_code == 1007);
  BOOST_TEST(bad_results[3].close_code == 1009);
  auto expected = call::make_greeting_tone();
  expected.insert(expected.end(), said.begin(), said.end());
  BOOST_TEST(good->error == "");
  BOOST_TEST(good->received_audio == expected);
}

BOOST_AUTO_TEST_CASE(concurrent_calls_each_get_their_own_audio) {
  gateway gw;
  std::vector<std::vector<std::uint8_t>> said;
  std::vector<boost::asio::awaitable<sim::call_summary>> calls;
  for (unsigned i = 0; i < 10; ++i) {
    said.push_back(speech(25, i + 2));
    calls.push_back(sim::run_call(gw.caller(said.back(), call::make_greeting_tone().size() + said.back().size())));
  }
  auto results = gw.run_all(std::move(calls));
  gw.settle();
  const auto greeting = call::make_greeting_tone();
  for (unsigned i = 0; i < results.size(); ++i) {
    auto expected = greeting;
    expected.insert(expected.end(), said[i].begin(), said[i].end());
    BOOST_TEST(results[i].error == "");
    BOOST_TEST(results[i].received_audio == expected, "call " << i);
  }
  BOOST_TEST(gw.server->active_calls() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
