#include <boost/test/unit_test.hpp>

#include "pipeline/spoken_turn.hpp"

using voicebridge::pipeline::spoken_turn;

BOOST_AUTO_TEST_SUITE(spoken_turn_tracking)

BOOST_AUTO_TEST_CASE(heard_text_grows_with_each_played_mark) {
  spoken_turn turn;
  turn.sent("t.1", "Hello ");
  turn.sent("t.2", "there, ");
  turn.sent("t.3", "friend. ");
  BOOST_TEST(turn.playing());
  BOOST_TEST(turn.heard() == "");
  turn.played("t.1");
  BOOST_TEST(turn.heard() == "Hello");
  turn.played("t.3");  // a mark stands for all the audio before it
  BOOST_TEST(turn.heard() == "Hello there, friend.");
  BOOST_TEST(!turn.playing());
}

BOOST_AUTO_TEST_CASE(marks_after_an_interruption_do_not_count) {
  spoken_turn turn;
  turn.sent("t.1", "One ");
  turn.sent("t.2", "two ");
  turn.played("t.1");
  turn.interrupt();
  turn.played("t.2");  // Twilio echoes the marks of cleared audio too
  turn.sent("t.3", "three ");
  BOOST_TEST(turn.heard() == "One");
  BOOST_TEST(turn.interrupted());
  BOOST_TEST(!turn.playing());
}

BOOST_AUTO_TEST_CASE(unknown_marks_change_nothing) {
  spoken_turn turn;
  turn.sent("t.1", "Hi ");
  turn.played("other-turn.1");
  BOOST_TEST(turn.heard() == "");
  BOOST_TEST(turn.playing());
}

BOOST_AUTO_TEST_SUITE_END()
