// The bridge to an ElevenLabs agent, end to end: simulator <-> voicebridge <-> fake-elevenlabs, real sockets.
#include <boost/json.hpp>

#include "integration/gateway_fixture.hpp"
#include "integration/test_pki.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/twilio/form.hpp"

#include <cmath>

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

fake::agent_script script_with_greeting() {
  fake::agent_script s;
  s.greeting = speech(12, 99);  // 240 ms, sent in 100 ms audio events
  return s;
}

// What Twilio's <Connect action> request gets for this call: hang up (served) or the apology.
bool apologises(gateway& gw, const std::string& call_sid) {
  twilio::form_params f;
  f.add("CallSid", call_sid);
  auto r = gw.run(signed_post(gw.port, gw.server->config(), "/api/twilio/voice/stream-ended", f));
  return r.body.find("<Say") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_bridge)

BOOST_AUTO_TEST_CASE(audio_is_byte_exact_both_ways_even_before_the_agent_is_ready) {
  auto script = script_with_greeting();
  script.metadata_delay_ms = 300;  // 15 caller frames arrive before the agent is ready
  gateway gw(gateway_config(), script);
  const auto caller = speech(50, 1);
  auto o = gw.caller(caller);
  o.dtmf = {{400ms, '5'}};
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.protocol_errors.empty());
  BOOST_TEST(gw.agent->record().caller_audio == caller);           // caller -> agent, nothing lost
  BOOST_TEST(s.received_audio == concat(script.greeting, caller));  // agent -> caller, in order
  BOOST_TEST(s.marks_received.size() > 0u);
  BOOST_TEST(gw.agent->record().pongs == std::vector<std::int64_t>{4242});
  BOOST_TEST_REQUIRE(gw.agent->record().contextual_updates.size() == 1u);
  BOOST_TEST(gw.agent->record().contextual_updates[0].find("key 5") != std::string::npos);
  // Dynamic variables: caller, called number, call SID; never the stream credential.
  const auto init = boost::json::parse(gw.agent->record().initiations.at(0));
  BOOST_TEST(init.at("dynamic_variables").at("caller_number") == "+15551230001");
  BOOST_TEST(init.at("dynamic_variables").at("called_number") == "+15559870002");
  BOOST_TEST(init.at("dynamic_variables").at("call_sid").as_string() == s.call_sid.c_str());
  BOOST_TEST(gw.agent->record().initiations.at(0).find("stream_token") == std::string::npos);
  BOOST_TEST(!apologises(gw, s.call_sid));
}

BOOST_AUTO_TEST_CASE(interruption_clears_twilio_and_drops_stale_audio) {
  auto script = script_with_greeting();
  script.interrupt_after_frames = 20;
  gateway gw(gateway_config(), script);
  const auto caller = speech(40, 2);
  auto s = gw.run(sim::run_call(gw.caller(caller)));
  BOOST_TEST(s.error == "");
  BOOST_TEST(gw.agent->record().interruptions_sent == 1);
  BOOST_TEST(s.clears == 1u);
  // The fake resends a chunk of the interrupted turn after the interruption: it must not reach the caller,
  // while the later turn's audio flows again.
  BOOST_TEST(s.received_audio == concat(script.greeting, caller));
  BOOST_TEST(gw.logs.str().find("barge-in") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(end_call_plays_the_goodbye_then_ends_the_twilio_leg) {
  auto script = script_with_greeting();
  script.end_call_after_frames = 10;
  script.echo = false;
  gateway gw(gateway_config(), script);
  auto o = gw.caller(speech(200, 3));  // the caller would talk for 4 s; the agent ends the call first
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST(s.server_closed);
  BOOST_TEST(s.close_code.value_or(0) == 1000);
  BOOST_TEST(s.frames_sent < 200u);
  BOOST_TEST(s.played_audio == concat(script.greeting, script.greeting));  // greeting, then the goodbye, all heard
  BOOST_TEST((std::find(s.marks_received.begin(), s.marks_received.end(), "agent-goodbye") != s.marks_received.end()));
  BOOST_TEST(!apologises(gw, s.call_sid));
}

BOOST_AUTO_TEST_CASE(unreachable_refused_or_quota_agent_falls_back_to_the_prompt_within_2_s) {
  for (int variant = 0; variant < 3; ++variant) {
    auto script = script_with_greeting();
    if (variant == 1) script.refuse_upgrade_status = 429;
    if (variant == 2) script.quota_error_after_metadata = true;
    gateway gw(gateway_config(), script);
    if (variant == 0) gw.agent.reset();  // nothing listens on the agent's port any more
    auto s = gw.run(sim::run_call(gw.caller(speech(100, 4))));
    gw.settle();
    const auto logs = gw.logs.str();
    BOOST_TEST(s.error == "", "variant " << variant);
    BOOST_TEST(heard_fallback(s, *gw.server), "variant " << variant);
    BOOST_TEST(s.time_to_first_audio.value_or(std::chrono::hours(1)).count() < 2000, "variant " << variant);
    BOOST_TEST(!apologises(gw, s.call_sid), "variant " << variant);  // the call was answered: Twilio hangs up
    BOOST_TEST(logs.find("fallback prompt and voicemail") != std::string::npos);
    // A refused connection or a 429 may pass: one more try. A quota error will not: no retry.
    const bool retried = logs.find("trying once more") != std::string::npos ||
                         logs.find("trying again after a backoff") != std::string::npos;
    BOOST_TEST(retried == (variant != 2), "variant " << variant);
    if (variant == 1) BOOST_TEST(gw.agent->record().conversations == 0);
  }
}

BOOST_AUTO_TEST_CASE(twenty_concurrent_calls_are_each_byte_exact) {
  auto script = script_with_greeting();
  gateway gw(gateway_config(), script);
  std::vector<std::vector<std::uint8_t>> audio;
  std::vector<boost::asio::awaitable<sim::call_summary>> calls;
  for (unsigned i = 0; i < 20; ++i) {
    audio.push_back(speech(30, 10 + i));
    calls.push_back(sim::run_call(gw.caller(audio.back(), script.greeting.size() + audio.back().size())));
  }
  auto results = gw.run_all(std::move(calls));
  for (unsigned i = 0; i < results.size(); ++i) {
    BOOST_TEST(results[i].error == "");
    BOOST_TEST(results[i].received_audio == concat(script.greeting, audio[i]), "call " << i);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(agent_tls)

BOOST_AUTO_TEST_CASE(wss_with_verified_certificate_bridges_the_call) {
  test_pki pki;
  trusted_ca trust(pki.dir + "/ca.pem");
  auto script = script_with_greeting();
  script.tls_certificate_chain = pki.dir + "/server.pem";
  script.tls_private_key = pki.dir + "/server.key";
  gateway tls_gw(gateway_config(), script, "https://localhost:");
  const auto caller = speech(20, 5);
  auto s = tls_gw.run(sim::run_call(tls_gw.caller(caller)));
  tls_gw.settle();
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.received_audio == concat(script.greeting, caller));
  BOOST_TEST(!apologises(tls_gw, s.call_sid));
}

BOOST_AUTO_TEST_CASE(untrusted_or_misnamed_certificate_is_refused) {
  test_pki pki;
  auto script = script_with_greeting();
  script.tls_certificate_chain = pki.dir + "/server.pem";
  script.tls_private_key = pki.dir + "/server.key";
  for (const std::string& variant : {std::string("untrusted"), std::string("misnamed")}) {
    trusted_ca trust(variant == "untrusted" ? "" : pki.dir + "/ca.pem");
    gateway tls_gw(gateway_config(), script, variant == "untrusted" ? "https://localhost:" : "https://127.0.0.1:");
    auto s = tls_gw.run(sim::run_call(tls_gw.caller(speech(10, 6))));
    tls_gw.settle();
    BOOST_TEST(tls_gw.logs.str().find("TLS handshake") != std::string::npos, variant);
    BOOST_TEST(heard_fallback(s, *tls_gw.server), variant);
    BOOST_TEST(tls_gw.agent->record().conversations == 0, variant);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(agent_signed_url)

BOOST_AUTO_TEST_CASE(private_agent_is_reached_through_a_signed_url_per_call) {
  auto script = script_with_greeting();
  script.api_key = "xi-test-api-key-0123456789";
  auto config = gateway_config();
  config.elevenlabs_api_key = script.api_key;
  gateway gw(config, script);
  voicebridge::app::add_log_secret(script.api_key);
  std::vector<boost::asio::awaitable<sim::call_summary>> calls;
  calls.push_back(sim::run_call(gw.caller(speech(10, 7))));
  calls.push_back(sim::run_call(gw.caller(speech(10, 8))));
  auto results = gw.run_all(std::move(calls));
  gw.settle();
  for (const auto& s : results) BOOST_TEST(s.received_audio.size() == script.greeting.size() + 1600u);
  BOOST_TEST(gw.agent->record().signed_urls_issued == 2);
  BOOST_TEST(gw.agent->record().refused_upgrades == 0);
  BOOST_TEST(gw.logs.str().find("conversation_signature=[redacted]") != std::string::npos);  // logged, masked
  BOOST_TEST(gw.logs.str().find("conversation_signature=sig") == std::string::npos);
  BOOST_TEST(gw.logs.str().find(script.api_key) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_api_key_falls_back_without_a_retry) {
  auto script = script_with_greeting();
  script.api_key = "xi-test-api-key-0123456789";
  auto config = gateway_config();
  config.elevenlabs_api_key = "xi-wrong-key-000000000000";
  gateway gw(config, script);
  auto s = gw.run(sim::run_call(gw.caller(speech(10, 9))));
  gw.settle();
  BOOST_TEST(gw.logs.str().find("signed URL refused: HTTP 401") != std::string::npos);
  BOOST_TEST(gw.logs.str().find("xi-wrong-key") == std::string::npos);
  BOOST_TEST(gw.logs.str().find("trying once more") == std::string::npos);  // a wrong key stays wrong
  BOOST_TEST(heard_fallback(s, *gw.server));
  // Without the key the agent socket is refused too (nothing bypasses the signature).
  auto unsigned_config = gateway_config();
  gateway open_gw(unsigned_config, script);
  auto u = open_gw.run(sim::run_call(open_gw.caller(speech(5, 9))));
  BOOST_TEST(heard_fallback(u, *open_gw.server));
  BOOST_TEST(open_gw.agent->record().refused_upgrades == 2);  // the pre-warm at the webhook, then at `start`
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(agent_transcoding)

// What the caller says in these tests: one second of a 440 Hz tone.
const std::vector<std::int16_t> caller_tone = [] {
  std::vector<std::int16_t> tone(8000);
  for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440 * i / 8000.0));
  return tone;
}();

BOOST_AUTO_TEST_CASE(pcm_16000_agent_is_transcoded_both_ways_with_resampling) {
  fake::agent_script script;  // no greeting: the echo is the whole answer
  script.input_format = "pcm_16000";
  script.output_format = "pcm_16000";
  gateway gw(gateway_config(), script);
  auto s = gw.run(sim::run_call(gw.caller(audio::mulaw_encode(caller_tone))));
  gw.settle();
  BOOST_TEST(s.error == "");
  // The agent got 16 kHz PCM: twice the samples, two bytes each (less the resampler's look-ahead).
  const auto agent_bytes = gw.agent->record().caller_audio.size();
  BOOST_TEST(agent_bytes > 4 * 8000u - 400);
  BOOST_TEST(agent_bytes <= 4 * 8000u);
  // The caller hears the tone back at 8 kHz mu-law, same pitch and level.
  const auto heard = audio::mulaw_decode(s.received_audio);
  BOOST_TEST(heard.size() > 8000u - 200);
  double re = 0, im = 0;
  for (std::size_t i = 1000; i < 7000; ++i) {
    re += heard[i] * std::cos(2 * M_PI * 440 * i / 8000.0);
    im += heard[i] * std::sin(2 * M_PI * 440 * i / 8000.0);
  }
  BOOST_TEST(std::abs(2 * std::hypot(re, im) / 6000 - 8000) < 600);
  const auto logs = gw.logs.str();
  const auto first = logs.find("transcoding");
  BOOST_TEST(first != std::string::npos);
  BOOST_TEST(logs.find("transcoding", first + 1) == std::string::npos);  // said once per call
}

// 20 ms of 48 kHz PCM is a 2.6 KB message: more than the client's 1 KiB masking buffer, so each one leaves
// in several writes of one frame; the agent must still get every message whole (it drops any it cannot parse),
// so every byte arrives.
BOOST_AUTO_TEST_CASE(agent_messages_larger_than_the_write_buffer_arrive_whole) {
  fake::agent_script script;
  script.input_format = "pcm_48000";
  script.echo = false;
  gateway gw(gateway_config(), script);
  auto s = gw.run(sim::run_call(gw.caller(audio::mulaw_encode(caller_tone))));
  gw.settle();
  BOOST_TEST(s.error == "");
  const auto agent_bytes = gw.agent->record().caller_audio.size();
  BOOST_TEST(agent_bytes > 12 * 8000u - 1200);  // six times the samples, two bytes each, less the look-ahead
  BOOST_TEST(agent_bytes <= 12 * 8000u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(agent_tools)

BOOST_AUTO_TEST_CASE(tool_calls_are_always_answered) {
  for (const std::string tool : {"end_call", "lookup_order"}) {
    auto script = script_with_greeting();
    script.tool_call_after_greeting = tool;
    gateway gw(gateway_config(), script);
    auto s = gw.run(sim::run_call(gw.caller(speech(15, 11))));
    gw.settle();
    BOOST_TEST_REQUIRE(gw.agent->record().tool_results.size() == 1u, tool);
    const auto result = boost::json::parse(gw.agent->record().tool_results[0]);
    BOOST_TEST(result.at("tool_call_id") == "toolu_1");
    BOOST_TEST(result.at("is_error").as_bool() == (tool != "end_call"), tool);  // unknown tools: an error, never a timeout
  }
}

BOOST_AUTO_TEST_CASE(policy_close_1008_mid_call_falls_back_and_is_logged) {
  auto script = script_with_greeting();
  script.close_1008_after_frames = 5;
  gateway gw(gateway_config(), script);
  auto s = gw.run(sim::run_call(gw.caller(speech(30, 12))));
  gw.settle();
  BOOST_TEST(heard_fallback(s, *gw.server));
  BOOST_TEST(!apologises(gw, s.call_sid));
  BOOST_TEST(gw.logs.str().find("reason=failed_mid_call") != std::string::npos);
  const auto logs = gw.logs.str();
  BOOST_TEST(logs.find("type=override_error") != std::string::npos);
  BOOST_TEST(logs.find("close_code=1008") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(dtmf_as_user_message_and_config_override_are_configurable) {
  auto script = script_with_greeting();
  auto config = gateway_config();
  config.dtmf_as_user_message = true;
  config.agent_config_override = R"({"agent":{"first_message":"Hello from the test"}})";
  gateway gw(config, script);
  auto o = gw.caller(speech(20, 13));
  o.dtmf = {{100ms, '#'}};
  gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST_REQUIRE(gw.agent->record().user_messages.size() == 1u);
  BOOST_TEST(gw.agent->record().user_messages[0].find("key #") != std::string::npos);
  BOOST_TEST(gw.agent->record().contextual_updates.empty());
  const auto init = boost::json::parse(gw.agent->record().initiations.at(0));
  BOOST_TEST(init.at("conversation_config_override").at("agent").at("first_message") == "Hello from the test");
}

BOOST_AUTO_TEST_SUITE_END()
