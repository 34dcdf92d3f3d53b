// What the console's live view learns from a call's audio (call_facts into call::live_call): silence is
// nobody speaking, a voice is the caller (found from a few samples of each fifth frame), agent audio is the
// agent for as long as it plays.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "call/call_facts.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/util/base64.hpp"

using namespace voicebridge;

namespace {

std::string frame_of(double amplitude) {
  std::vector<std::int16_t> samples(160);
  for (std::size_t i = 0; i < samples.size(); ++i)
    samples[i] = static_cast<std::int16_t>(amplitude * std::sin(2 * 3.14159265 * 300 * static_cast<double>(i) / 8000));
  return util::base64_encode(audio::mulaw_encode(samples));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(live_call_view)

BOOST_AUTO_TEST_CASE(the_callers_voice_and_the_agents_audio_say_who_is_speaking) {
  call::call_facts facts;
  auto live = facts.go_live("sales", [] {}, [](std::string) {});
  const auto quiet = frame_of(200);  // line noise
  for (int i = 0; i < 10; ++i) facts.caller_audio(quiet, "CA1");
  BOOST_TEST(live->speaking(records::now_epoch_ms()) == "nobody");
  const auto voice = frame_of(8000);
  for (int i = 0; i < 5; ++i) facts.caller_audio(voice, "CA1");
  BOOST_TEST(live->speaking(records::now_epoch_ms()) == "caller");
  BOOST_TEST(live->speaking(records::now_epoch_ms() + call::live_call::speech_hold_ms + 1) == "nobody");

  facts.agent_audio(util::base64_encode(std::string(8000, '\x7f')), true);  // a second of agent audio
  BOOST_TEST(live->speaking(records::now_epoch_ms() + 500) == "agent");
  facts.agent_cleared();  // a barge-in
  BOOST_TEST(live->speaking(records::now_epoch_ms() + 500) == "nobody");
  BOOST_TEST(live->route == "sales");
}

BOOST_AUTO_TEST_SUITE_END()
