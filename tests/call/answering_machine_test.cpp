// The answering-machine gate without sockets: the agent's first turn is held until Twilio's verdict, a
// human releases it in order, a machine drops it for the message, a fax hangs up, and the timeout lets the
// agent speak without losing a later machine verdict.
#include <boost/test/unit_test.hpp>

#include "call/answering_machine.hpp"
#include "records/call_record.hpp"

using namespace voicebridge::call;
using namespace voicebridge;
using kind = answering_machine::step::kind;
using pass = answering_machine::pass;

namespace {

amd_settings with_message(bool hold = true) {
  amd_settings s;
  s.hold_greeting = hold;
  s.have_message = true;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(answering_machine_gate)

BOOST_AUTO_TEST_CASE(twilio_answered_by_values_are_read_and_anything_else_is_refused) {
  BOOST_TEST((parse_answered_by("human") == answered_by::human));
  for (auto v : {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other"})
    BOOST_TEST((parse_answered_by(v) == answered_by::machine));
  BOOST_TEST((parse_answered_by("fax") == answered_by::fax));
  BOOST_TEST((parse_answered_by("unknown") == answered_by::unknown));
  BOOST_TEST(!parse_answered_by("Human").has_value());
  BOOST_TEST(!parse_answered_by("").has_value());
  BOOST_TEST(!parse_answered_by("machine").has_value());
}

BOOST_AUTO_TEST_CASE(a_human_releases_the_held_greeting_and_its_marks_in_the_agents_order) {
  answering_machine gate(with_message());
  BOOST_TEST((gate.on_agent_mark("turn-1") == pass::held));
  BOOST_TEST((gate.on_agent_audio("AAAA") == pass::held));
  BOOST_TEST((gate.on_agent_audio("BBBB") == pass::held));
  BOOST_TEST((gate.on_agent_mark("turn-1-end") == pass::held));
  const auto step = gate.on_result(answered_by::human, "human");
  BOOST_TEST((step.what == kind::release));
  BOOST_TEST_REQUIRE(step.released.size() == 4u);
  BOOST_TEST((step.released[0].what == held_output::kind::mark));
  BOOST_TEST(step.released[0].text == "turn-1");
  BOOST_TEST(step.released[1].text == "AAAA");
  BOOST_TEST(step.released[2].text == "BBBB");
  BOOST_TEST(step.released[3].text == "turn-1-end");
  BOOST_TEST((gate.current() == answering_machine::phase::speaking));
  BOOST_TEST(gate.verdict() == "human");
  BOOST_TEST((gate.on_agent_audio("CCCC") == pass::now));  // from now on straight through
  BOOST_TEST((gate.on_agent_mark("turn-2") == pass::now));
  BOOST_TEST(gate.on_agent_clear());
}

BOOST_AUTO_TEST_CASE(unknown_lets_the_agent_speak_as_a_human_would) {
  answering_machine gate(with_message());
  gate.on_agent_audio("AAAA");
  const auto step = gate.on_result(answered_by::unknown, "unknown");
  BOOST_TEST((step.what == kind::release));
  BOOST_TEST(step.released.size() == 1u);
  BOOST_TEST(gate.verdict() == "unknown");
}

BOOST_AUTO_TEST_CASE(a_machine_drops_the_held_greeting_and_leaves_the_message_without_a_clear) {
  answering_machine gate(with_message());
  gate.on_agent_audio("AAAA");
  gate.on_agent_mark("turn-1");
  const auto step = gate.on_result(answered_by::machine, "machine_end_beep");
  BOOST_TEST((step.what == kind::leave_message));
  BOOST_TEST(!step.clear_twilio);  // nothing of the agent reached Twilio
  BOOST_TEST(step.released.empty());
  BOOST_TEST(gate.verdict() == "machine_end_beep");
  // The agent, still winding down, is never heard.
  BOOST_TEST((gate.on_agent_audio("BBBB") == pass::dropped));
  BOOST_TEST((gate.on_agent_mark("turn-2") == pass::dropped));
  BOOST_TEST(!gate.on_agent_clear());
  BOOST_TEST(gate.machine_outcome(true) == records::outcome::voicemail_left);
  BOOST_TEST(gate.machine_outcome(false) == records::outcome::machine_hung_up);
}

BOOST_AUTO_TEST_CASE(a_machine_without_a_message_to_leave_and_a_fax_are_hung_up_on) {
  amd_settings none;
  none.have_message = false;
  answering_machine machine(none);
  BOOST_TEST((machine.on_result(answered_by::machine, "machine_end_silence").what == kind::hang_up));
  answering_machine fax(with_message());
  BOOST_TEST((fax.on_result(answered_by::fax, "fax").what == kind::hang_up));  // a fax never gets the message
}

BOOST_AUTO_TEST_CASE(the_timeout_lets_the_agent_speak_and_a_later_machine_verdict_still_clears_it_for_the_message) {
  answering_machine gate(with_message());
  gate.on_agent_audio("AAAA");
  const auto timeout = gate.on_timeout();
  BOOST_TEST((timeout.what == kind::release));
  BOOST_TEST(timeout.released.size() == 1u);
  BOOST_TEST(gate.verdict() == "timeout");
  BOOST_TEST((gate.on_result(answered_by::human, "human").what == kind::nothing));  // late, and changes nothing
  BOOST_TEST(gate.verdict() == "timeout");
  const auto late = gate.on_result(answered_by::machine, "machine_end_beep");
  BOOST_TEST((late.what == kind::leave_message));
  BOOST_TEST(late.clear_twilio);  // the agent's audio is in Twilio's buffer: cleared before the message
  BOOST_TEST((gate.on_result(answered_by::human, "human").what == kind::nothing));  // decided
  BOOST_TEST((gate.on_timeout().what == kind::nothing));
}

BOOST_AUTO_TEST_CASE(without_holding_the_agent_speaks_at_once_and_a_machine_verdict_clears_what_it_said) {
  answering_machine gate(with_message(false));
  BOOST_TEST((gate.on_agent_audio("AAAA") == pass::now));
  BOOST_TEST((gate.on_agent_mark("turn-1") == pass::now));
  const auto step = gate.on_result(answered_by::machine, "machine_end_other");
  BOOST_TEST((step.what == kind::leave_message));
  BOOST_TEST(step.clear_twilio);
}

BOOST_AUTO_TEST_CASE(a_clear_while_held_drops_the_held_audio_and_keeps_its_marks) {
  answering_machine gate(with_message());
  gate.on_agent_mark("turn-1");
  gate.on_agent_audio("AAAA");
  BOOST_TEST(!gate.on_agent_clear());  // nothing was sent: nothing to clear at Twilio
  gate.on_agent_audio("BBBB");
  const auto step = gate.on_result(answered_by::human, "human");
  BOOST_TEST_REQUIRE(step.released.size() == 2u);
  BOOST_TEST(step.released[0].text == "turn-1");  // echoed at once by Twilio, as a cleared turn's mark is
  BOOST_TEST(step.released[1].text == "BBBB");
}

BOOST_AUTO_TEST_CASE(the_held_audio_is_bounded_and_what_does_not_fit_is_dropped_and_counted) {
  amd_settings small = with_message();
  small.max_held_bytes = 10;
  answering_machine gate(small);
  BOOST_TEST((gate.on_agent_audio("12345678") == pass::held));
  BOOST_TEST((gate.on_agent_audio("abcd") == pass::dropped));
  BOOST_TEST((gate.on_agent_audio("xy") == pass::held));  // exactly at the bound
  BOOST_TEST(gate.dropped_bytes() == 4u);
  BOOST_TEST(gate.on_result(answered_by::human, "human").released.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
