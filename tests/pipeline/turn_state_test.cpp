// The pipeline's turns without a socket: what goes to TTS, when the caller's speech is a barge-in, what the
// history keeps of an interrupted answer, stale LLM text, the resumption after a TTS reconnect, and the
// history's bounds.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "pipeline/turn_state.hpp"

using namespace voicebridge;
using namespace voicebridge::pipeline;

namespace {

// The TTS messages as (context_id, what): "init", "text:<text>", "flush", "close".
std::vector<std::string> tts(const turn_actions& out) {
  std::vector<std::string> seen;
  for (const auto& m : out.to_tts) {
    const auto o = boost::json::parse(m).as_object();
    const std::string context(o.at("context_id").as_string());
    if (o.contains("voice_settings")) seen.push_back(context + " init");
    else if (o.contains("close_context")) seen.push_back(context + " close");
    else if (o.contains("flush")) seen.push_back(context + " flush");
    else seen.push_back(context + " text:" + std::string(o.at("text").as_string()));
  }
  return seen;
}

// A turn whose answer "Hello there. How can I help? " was written and fully synthesized in two chunks.
turn_state answered_turn() {
  turn_state s("be brief", 40);
  turn_actions out;
  s.user_turn("hi", out);
  s.answer_text(1, "Hello there. ", out);
  s.answer_text(1, "How can I help?", out);
  s.answer_done(1, {}, out);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pipeline_turns)

BOOST_AUTO_TEST_CASE(a_user_turn_opens_a_context_and_asks_the_llm_with_the_history) {
  turn_state s("be brief", 40);
  turn_actions out;
  s.user_turn("what time is it", out);
  BOOST_TEST((out.ask_llm == 1));
  BOOST_TEST(tts(out) == std::vector<std::string>{"turn-1 init"}, boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(s.history().size(), 2u);
  BOOST_TEST(s.history()[0].role == "system");
  BOOST_TEST(s.history()[1].content == "what time is it");
  BOOST_TEST(s.speaking());
}

BOOST_AUTO_TEST_CASE(the_answer_goes_to_tts_phrase_by_phrase_and_closes_its_context) {
  turn_state s("p", 40);
  turn_actions out;
  s.user_turn("hi", out);
  turn_actions answer;
  s.answer_text(1, "Hello there. ", answer);
  s.answer_text(1, "How can I", answer);
  s.answer_done(1, {}, answer);
  const std::vector<std::string> expected{"turn-1 text:Hello there. ", "turn-1 text:How can I ", "turn-1 flush",
                                          "turn-1 close"};
  BOOST_TEST(tts(answer) == expected, boost::test_tools::per_element());
  BOOST_TEST(s.history().back().role == "assistant");
  BOOST_TEST(s.history().back().content == "Hello there. How can I");
}

BOOST_AUTO_TEST_CASE(blank_turns_and_turns_while_saying_goodbye_are_ignored) {
  turn_state s("p", 40);
  turn_actions out;
  s.user_turn(" \t\n", out);
  BOOST_TEST(!out.ask_llm.has_value());
  s.begin_goodbye();
  s.user_turn("wait", out);
  BOOST_TEST(!out.ask_llm.has_value());
  BOOST_TEST(s.history().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_long_turn_is_cut_at_a_character_boundary) {
  turn_state s("p", 40);
  turn_actions out;
  std::string text(turn_state::max_turn_chars - 1, 'a');
  text += "\xC3\xA9\xC3\xA9";  // two 2-byte characters across the limit
  s.user_turn(text, out);
  const auto& kept = s.history().back().content;
  BOOST_TEST(kept.size() == turn_state::max_turn_chars - 1);
  BOOST_TEST(kept.back() == 'a');
}

BOOST_AUTO_TEST_CASE(audio_of_the_current_context_is_played_with_a_mark_and_other_audio_is_dropped) {
  auto s = answered_turn();
  BOOST_TEST(!s.audio_chunk("turn-0", "old ", true).has_value());
  BOOST_TEST(!s.audio_chunk("turn-1", "", false).has_value());
  const auto mark = s.audio_chunk("turn-1", "Hello there. ", true);
  BOOST_REQUIRE(mark.has_value());
  BOOST_TEST(*mark == "turn-1.1");
  BOOST_TEST(*s.audio_chunk("turn-1", "How can I help? ", true) == "turn-1.2");
}

BOOST_AUTO_TEST_CASE(a_barge_in_keeps_in_the_history_only_what_the_caller_heard) {
  auto s = answered_turn();
  s.audio_chunk("turn-1", "Hello there. ", true);
  s.audio_chunk("turn-1", "How can I help? ", true);
  s.mark_played("turn-1.1");  // the second chunk was still playing
  turn_actions out;
  s.partial_transcript("wait", out);
  BOOST_REQUIRE(out.barged_in.has_value());
  BOOST_TEST(out.clear_caller_audio);
  BOOST_TEST(!out.cancel_answer);  // the answer was complete
  BOOST_TEST(out.barged_in->heard_chars == std::string("Hello there.").size());
  BOOST_TEST(s.history().back().content == "Hello there.");
  BOOST_TEST(s.transcript().transcript.back().text == "Hello there.");
  BOOST_TEST(!s.speaking());
  turn_actions again;
  s.partial_transcript("wait wait", again);
  BOOST_TEST(!again.barged_in.has_value());  // one barge-in per turn
}

BOOST_AUTO_TEST_CASE(a_barge_in_while_the_answer_is_written_cancels_it_and_its_later_text_is_stale) {
  turn_state s("p", 40);
  turn_actions out;
  s.user_turn("tell me a story", out);
  s.answer_text(1, "Once upon a time, there was a gateway. ", out);
  s.audio_chunk("turn-1", "Once upon a time, ", true);
  s.mark_played("turn-1.1");
  turn_actions barge;
  s.partial_transcript("stop", barge);
  BOOST_TEST(barge.cancel_answer);
  BOOST_TEST(tts(barge) == std::vector<std::string>{"turn-1 close"}, boost::test_tools::per_element());
  BOOST_TEST(!s.current(1));
  turn_actions late;
  s.answer_text(1, "It answered calls.", late);
  s.answer_done(1, {}, late);
  BOOST_TEST(late.to_tts.empty());
  BOOST_TEST(s.history().back().content == "Once upon a time,");  // what was heard, not what was written
}

BOOST_AUTO_TEST_CASE(a_new_turn_while_the_agent_speaks_interrupts_it_and_closes_its_context_first) {
  turn_state s("p", 40);
  turn_actions out;
  s.user_turn("one", out);
  s.answer_text(1, "First answer. ", out);
  turn_actions next;
  s.user_turn("two", next);
  BOOST_TEST(next.barged_in.has_value());
  BOOST_TEST((next.ask_llm == 2));
  const std::vector<std::string> expected{"turn-1 close", "turn-2 init"};
  BOOST_TEST(tts(next) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(after_a_tts_reconnect_the_phrases_not_yet_spoken_are_said_again_in_a_new_context) {
  turn_state s("p", 40);
  turn_actions out;
  s.user_turn("hi", out);
  s.answer_text(1, "First phrase. ", out);
  s.answer_text(1, "Second phrase. ", out);
  s.answer_text(1, "Third", out);
  s.answer_done(1, {}, out);
  s.audio_chunk("turn-1", "First phrase. ", true);  // only the first came back before the socket dropped
  turn_actions resumed;
  s.tts_reconnected(resumed);
  const std::vector<std::string> expected{"turn-1-r1 init", "turn-1-r1 text:Second phrase. ", "turn-1-r1 text:Third ",
                                          "turn-1-r1 flush", "turn-1-r1 close"};
  BOOST_TEST(tts(resumed) == expected, boost::test_tools::per_element());
  BOOST_TEST(s.audio_chunk("turn-1-r1", "Second phrase. ", true).has_value());
}

BOOST_AUTO_TEST_CASE(a_finished_or_interrupted_turn_is_not_resumed) {
  auto s = answered_turn();
  s.tts_final("turn-1");
  turn_actions out;
  s.tts_reconnected(out);
  BOOST_TEST(out.to_tts.empty());
  BOOST_TEST(!s.goodbye_playing());
}

BOOST_AUTO_TEST_CASE(the_history_keeps_its_bound_the_system_prompt_and_no_orphan_tool_result) {
  turn_state s("system prompt", 4);
  llm::tool_call call{"call-1", "end_call", "{}"};
  turn_actions out;
  s.user_turn("one", out);
  s.answer_done(1, {call}, out);
  s.tool_result(call, "ok");
  for (int i = 2; i <= 4; ++i) {
    s.user_turn("turn " + std::to_string(i), out);
    // Trimmed as each user turn joins: the system prompt and at most 4 messages go to the LLM.
    const auto& h = s.history();
    BOOST_TEST(h.size() <= 5u);
    BOOST_TEST(h[0].content == "system prompt");
    BOOST_TEST(h[1].role != "tool");
    BOOST_TEST(h.back().content == "turn " + std::to_string(i));
    s.answer_text(i, "answer. ", out);
    s.answer_done(i, {}, out);
  }
}

BOOST_AUTO_TEST_CASE(the_greeting_is_spoken_and_remembered_without_the_llm) {
  turn_state s("p", 40);
  turn_actions out;
  s.greet("Hello, this is the clinic.", out);
  BOOST_TEST(!out.ask_llm.has_value());
  const std::vector<std::string> expected{"turn-1 init", "turn-1 text:Hello, this is the clinic. ", "turn-1 flush",
                                          "turn-1 close"};
  BOOST_TEST(tts(out) == expected, boost::test_tools::per_element());
  BOOST_TEST(s.history().back().content == "Hello, this is the clinic.");
  BOOST_TEST(s.open_context() == "");
}

// A resumed call: what was said before joins the system prompt, which trimming never drops.
BOOST_AUTO_TEST_CASE(context_joins_the_system_prompt_and_outlives_the_trimming) {
  turn_state s("be brief", 2);
  s.add_context("   ");  // nothing to tell
  BOOST_TEST(s.history()[0].content == "be brief");
  s.add_context("Caller: I would like a table.\nAgent: For how many?\n");
  turn_actions out;
  for (int i = 1; i <= 3; ++i) {
    s.user_turn("turn " + std::to_string(i), out);
    BOOST_TEST(s.history().size() <= 3u);  // trimmed as each user turn joins
    s.answer_done(i, {}, out);
  }
  BOOST_TEST(s.history()[0].content == "be brief\n\nCaller: I would like a table.\nAgent: For how many?\n");
}

BOOST_AUTO_TEST_SUITE_END()
