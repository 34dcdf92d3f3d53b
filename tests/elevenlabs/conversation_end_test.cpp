// How a conversation's end reaches the call: refusals that a retry will not fix, 429s worth a backoff, the
// agent's close codes before and after the caller heard it, and a normal close as a goodbye.
#include <boost/test/unit_test.hpp>

#include "elevenlabs/conversation_end.hpp"

using namespace voicebridge;
using namespace voicebridge::elevenlabs;
using call::agent_end;

BOOST_AUTO_TEST_SUITE(conversation_end_decisions)

BOOST_AUTO_TEST_CASE(upgrade_statuses_say_whether_a_retry_can_pass) {
  BOOST_TEST((refusal_of_upgrade(403) == connect_refusal::refused));
  BOOST_TEST((refusal_of_upgrade(404) == connect_refusal::refused));
  BOOST_TEST((refusal_of_upgrade(429) == connect_refusal::rate_limited));
  BOOST_TEST((refusal_of_upgrade(503) == connect_refusal::none));
  BOOST_TEST((refusal_of_upgrade(0) == connect_refusal::none));  // no answer at all
}

BOOST_AUTO_TEST_CASE(signed_url_statuses_blame_the_key_or_the_agent_only_for_401_403_404) {
  for (unsigned status : {401u, 403u, 404u}) BOOST_TEST((refusal_of_signed_url(status) == connect_refusal::refused));
  BOOST_TEST((refusal_of_signed_url(429) == connect_refusal::rate_limited));
  BOOST_TEST((refusal_of_signed_url(400) == connect_refusal::none));
  BOOST_TEST((refusal_of_signed_url(500) == connect_refusal::none));
}

BOOST_AUTO_TEST_CASE(policy_closes_and_quota_are_permanent) {
  BOOST_TEST(is_permanent_close(1008, ""));
  BOOST_TEST(is_permanent_close(1011, "quota exceeded"));
  BOOST_TEST(!is_permanent_close(1011, "internal error"));
  BOOST_TEST(is_quota_error("You have exceeded your quota", ""));
  BOOST_TEST(is_quota_error("", "quota_exceeded"));
  BOOST_TEST(!is_quota_error("rate limited", "busy"));
}

BOOST_AUTO_TEST_CASE(a_conversation_that_never_connected_ends_as_its_refusal) {
  conversation_facts f;
  BOOST_TEST((end_of_conversation(f).end == agent_end::unreachable));
  f.refusal = connect_refusal::refused;
  BOOST_TEST((end_of_conversation(f).end == agent_end::refused));
  f.refusal = connect_refusal::rate_limited;
  BOOST_TEST((end_of_conversation(f).end == agent_end::rate_limited));
  BOOST_TEST(!end_of_conversation(f).play_goodbye);
}

BOOST_AUTO_TEST_CASE(the_agent_closing_before_the_caller_heard_it_may_be_tried_again_unless_permanent) {
  conversation_facts f;
  f.connected = true;
  f.close_code = 1011;
  BOOST_TEST((end_of_conversation(f).end == agent_end::unreachable));
  f.close_code = -1;  // the socket just dropped
  BOOST_TEST((end_of_conversation(f).end == agent_end::unreachable));
  f.close_code = 1008;
  BOOST_TEST((end_of_conversation(f).end == agent_end::refused));
  f.close_code = 1011;
  f.quota_error = true;
  BOOST_TEST((end_of_conversation(f).end == agent_end::refused));
}

BOOST_AUTO_TEST_CASE(an_abnormal_close_after_the_caller_heard_the_agent_is_a_mid_call_failure) {
  conversation_facts f;
  f.connected = true;
  f.caller_heard_agent = true;
  f.close_code = 1008;
  BOOST_TEST((end_of_conversation(f).end == agent_end::failed_mid_call));
}

BOOST_AUTO_TEST_CASE(a_normal_close_is_the_agents_goodbye_and_a_hang_up_is_served) {
  conversation_facts f;
  f.connected = true;
  f.close_code = 1000;
  const auto goodbye = end_of_conversation(f);
  BOOST_TEST((goodbye.end == agent_end::served));
  BOOST_TEST(goodbye.play_goodbye);
  f.caller_gone = true;
  f.close_code = -1;
  const auto hang_up = end_of_conversation(f);
  BOOST_TEST((hang_up.end == agent_end::served));
  BOOST_TEST(!hang_up.play_goodbye);
}

BOOST_AUTO_TEST_SUITE_END()
