// The gateway's own tools, as both agent kinds call them, and the sentence a key press becomes.
#include <boost/test/unit_test.hpp>

#include "call/gateway_tools.hpp"

using namespace voicebridge::call;
using kind = tool_request::kind;

BOOST_AUTO_TEST_SUITE(gateway_tools)

BOOST_AUTO_TEST_CASE(end_call_and_hang_up_end_the_call) {
  for (const char* name : {"end_call", "hang_up"}) {
    const auto r = read_tool_call(name, "{}");
    BOOST_TEST((r.what == kind::end_call));
    BOOST_TEST(!r.is_error);
  }
}

BOOST_AUTO_TEST_CASE(a_transfer_takes_its_number_under_any_of_the_three_names) {
  for (const char* key : {"phone_number", "transfer_number", "number"}) {
    const auto r = read_tool_call("transfer_to_number", std::string("{\"") + key + "\":\"+15551234567\"}");
    BOOST_TEST((r.what == kind::transfer), key);
    BOOST_TEST(r.number == "+15551234567");
    BOOST_TEST(r.result == "transferring the caller");
  }
}

BOOST_AUTO_TEST_CASE(a_transfer_without_an_e164_number_is_an_error_for_the_agent) {
  for (const char* arguments : {"{\"phone_number\":\"555-1234\"}", "{}", "not json", "[\"+15551234567\"]",
                                "{\"phone_number\":15551234567}"}) {
    const auto r = read_tool_call("transfer_to_number", arguments);
    BOOST_TEST((r.what == kind::invalid), arguments);
    BOOST_TEST(r.is_error);
    BOOST_TEST(r.number.empty());
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_tool_is_named_in_the_error) {
  const auto r = read_tool_call("book_flight", "{}");
  BOOST_TEST((r.what == kind::unknown));
  BOOST_TEST(r.result == "unknown tool book_flight");
  BOOST_TEST(r.is_error);
}

BOOST_AUTO_TEST_CASE(a_key_press_is_told_as_a_sentence) {
  BOOST_TEST(dtmf_sentence('5') == "The caller pressed the key 5 on the phone keypad.");
  BOOST_TEST(dtmf_sentence('#') == "The caller pressed the key # on the phone keypad.");
}

BOOST_AUTO_TEST_SUITE_END()
