// What the agent of a call resumed after a crash is told of the conversation so far.
#include <boost/test/unit_test.hpp>

#include "call/resumption.hpp"

using namespace voicebridge;
using records::transcript_line;

BOOST_AUTO_TEST_SUITE(resumption)

BOOST_AUTO_TEST_CASE(nothing_said_tells_nothing) { BOOST_TEST(call::resumption_context({}).empty()); }

BOOST_AUTO_TEST_CASE(the_lines_come_in_order_named_by_who_said_them_after_the_reason) {
  const auto text = call::resumption_context({{"agent", "Hello, how can I help?", 1}, {"user", "My order is late.", 2}});
  BOOST_TEST(text.starts_with("The phone line dropped"));
  const auto agent = text.find("Agent: Hello, how can I help?\n");
  const auto caller = text.find("Caller: My order is late.\n");
  BOOST_TEST(agent != std::string::npos);
  BOOST_TEST(caller != std::string::npos);
  BOOST_TEST(agent < caller);
}

BOOST_AUTO_TEST_CASE(a_long_call_keeps_its_latest_whole_lines_within_the_bound) {
  std::vector<transcript_line> lines;
  for (int i = 0; i < 200; ++i) lines.push_back({i % 2 ? "user" : "agent", "line " + std::to_string(i) + " " + std::string(40, 'x'), i});
  const auto text = call::resumption_context(lines, 1000);
  BOOST_TEST(text.size() <= 1000u);
  BOOST_TEST(text.find("line 199 ") != std::string::npos);  // the latest stays
  BOOST_TEST(text.find("line 0 ") == std::string::npos);    // the oldest goes first
  BOOST_TEST(text.ends_with(std::string(40, 'x') + "\n"));  // whole lines only
}

BOOST_AUTO_TEST_SUITE_END()
