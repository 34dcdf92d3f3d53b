// Pre-warming: the agent conversation opened at the webhook, while Twilio sets up the call, and adopted by
// the stream's `start` (simulator <-> voicebridge <-> fake-elevenlabs with an artificial connect delay).
#include "integration/gateway_fixture.hpp"
#include "voicebridge/app/metrics.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

fake::agent_script slow_agent(int connect_delay_ms) {
  fake::agent_script script;
  script.greeting = speech(5, 1);
  script.connect_delay_ms = connect_delay_ms;
  return script;
}

app::config with_prewarm(bool on, std::chrono::milliseconds timeout = 15s) {
  auto c = gateway_config();
  c.prewarm = on;
  c.prewarm_timeout = timeout;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prewarm)

// The agent takes 500 ms to connect; Twilio takes 600 ms from the webhook answer to the stream. Without
// pre-warm the caller waits those 500 ms after `start`; with it the greeting is waiting for them.
BOOST_AUTO_TEST_CASE(time_from_start_to_first_audio_drops_by_the_connect_delay) {
  const auto audio = speech(20, 2);
  std::optional<std::chrono::milliseconds> ttfa[2];
  for (bool on : {false, true}) {
    const auto script = slow_agent(500);
    gateway gw(with_prewarm(on), script);
    const auto hits = app::metrics().prewarms.value("hit");
    auto o = gw.caller(audio, script.greeting.size() + audio.size());
    o.stream_delay = 600ms;
    auto s = gw.run(sim::run_call(o));
    gw.settle();
    BOOST_TEST_REQUIRE(s.error == "");
    BOOST_TEST(s.received_audio == concat(script.greeting, audio));
    BOOST_TEST(gw.agent->record().conversations == 1);
    BOOST_TEST(app::metrics().prewarms.value("hit") == hits + (on ? 1 : 0));
    BOOST_TEST((gw.logs.str().find("pre-warmed agent adopted") != std::string::npos) == on);
    ttfa[on] = s.time_to_first_audio;
  }
  BOOST_TEST_REQUIRE((ttfa[0] && ttfa[1]));
  BOOST_TEST_MESSAGE("time from start to first agent audio: " << ttfa[0]->count() << " ms without pre-warm, "
                                                               << ttfa[1]->count() << " ms with");
  BOOST_TEST(ttfa[0]->count() >= 500);  // the connect delay, paid after `start`
  BOOST_TEST(ttfa[0]->count() - ttfa[1]->count() >= 300);  // paid while the phone rang instead
}

BOOST_AUTO_TEST_CASE(a_stream_that_never_comes_is_closed_with_1000_after_the_timeout) {
  gateway gw(with_prewarm(true, 300ms), slow_agent(0));
  const auto expired = app::metrics().prewarms.value("expired");
  auto r = gw.run(signed_post(gw.port, gw.server->config(), std::string(app::voice_webhook_path),
                              voice_form("CA" + std::string(32, '7'))));
  BOOST_TEST(r.body.find("<Connect") != std::string::npos);
  gw.run_until([&] { return !gw.agent->record().gateway_close_codes.empty(); });
  BOOST_TEST(gw.agent->record().conversations == 1);
  BOOST_TEST(gw.agent->record().gateway_close_codes == std::vector<int>{1000});
  BOOST_TEST(gw.agent->record().pongs == std::vector<std::int64_t>{4242});  // pings answered while it waited
  BOOST_TEST(app::metrics().prewarms.value("expired") == expired + 1);
  BOOST_TEST(gw.logs.str().find("pre-warmed agent expired") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_retried_webhook_reuses_the_pending_connection) {
  gateway gw(with_prewarm(true), slow_agent(100));
  const std::string call_sid = "CA" + std::string(32, '8');
  const auto& c = gw.server->config();
  gw.run(signed_post(gw.port, c, std::string(app::voice_webhook_path), voice_form(call_sid)));
  gw.run(signed_post(gw.port, c, std::string(app::voice_webhook_path), voice_form(call_sid)));
  // The simulator's own webhook is a third one for the same call; then the stream adopts the connection.
  const auto audio = speech(10, 3);
  auto o = gw.caller(audio);
  o.call_sid = call_sid;
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.received_audio.size() == slow_agent(0).greeting.size() + audio.size());
  BOOST_TEST(gw.agent->record().conversations == 1);
  BOOST_TEST(gw.agent->record().initiations.size() == 1u);
  BOOST_TEST(gw.logs.str().find("webhook retried: pre-warmed agent reused") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failed_prewarm_falls_back_to_connecting_at_start) {
  auto script = slow_agent(0);
  script.refuse_first_upgrades = 1;
  gateway gw(with_prewarm(true), script);
  const auto failed = app::metrics().prewarms.value("failed");
  const auto audio = speech(15, 4);
  auto o = gw.caller(audio, script.greeting.size() + audio.size());
  o.stream_delay = 200ms;  // the pre-warm has failed by then
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.received_audio == concat(script.greeting, audio));
  BOOST_TEST(app::metrics().prewarms.value("failed") == failed + 1);
  BOOST_TEST(gw.agent->record().conversations == 1);
}

BOOST_AUTO_TEST_CASE(a_prewarm_failing_after_adoption_falls_back_too) {
  auto script = slow_agent(300);
  script.refuse_first_upgrades = 1;
  gateway gw(with_prewarm(true), script);
  const auto failed_late = app::metrics().prewarms.value("failed_after_adoption");
  auto o = gw.caller(speech(40, 5));
  o.linger = 2s;  // the stream starts at once: the call adopts the pre-warm while it is still connecting
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.close_reason != "agent unavailable");
  BOOST_TEST(app::metrics().prewarms.value("failed_after_adoption") == failed_late + 1);
  BOOST_TEST(gw.agent->record().conversations == 1);
  // The greeting of the fallback connection reached the caller, and the caller's later audio the agent.
  BOOST_TEST(s.received_audio.size() >= script.greeting.size());
  BOOST_TEST(!gw.agent->record().caller_audio.empty());
}

BOOST_AUTO_TEST_SUITE_END()
