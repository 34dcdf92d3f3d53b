// Outbound calls end to end over real sockets: POST /api/calls, the Twilio stand-in creating and "dialling"
// the call (signed status callbacks, the signed TwiML fetch, the Media Stream played as twilio-sim plays a
// call), the route's agent, and the record. Also what goes wrong: Twilio's refusal, a retried request with
// its Idempotency-Key, a busy line and a phone nobody answers, and bad requests.
#include "outbound_fixture.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

const std::string human = "+15557654321";
const std::string busy_line = "+15557654322";
const std::string nobody_home = "+15557654323";

}  // namespace

BOOST_AUTO_TEST_SUITE(outbound_calls)

BOOST_AUTO_TEST_CASE(a_call_to_a_human_is_served_by_the_routes_agent_byte_exact_both_ways) {
  outbound_gateway f;  // the fake agent echoes every caller chunk, no greeting
  const auto audio = speech(50, 11);
  fake::callee_script callee;
  callee.audio = audio;
  callee.hang_up_after_bytes = audio.size();
  callee.linger = 20s;  // the cap: it hangs up once it heard its words back
  f.phones().script(human, callee);

  const auto placed = f.place(R"({"to":")" + human + R"(","from":"+15550001001",)"
                              R"("dynamic_variables":{"first_name":"Ada","visits":3}})");
  BOOST_TEST_REQUIRE(placed.status == 201u, placed.body);
  const auto call_sid = call_sid_of(placed);
  BOOST_TEST(boost::json::parse(placed.body).as_object().at("record_url").as_string() == "/api/calls/" + call_sid);
  f.wait_dialled(1);

  const auto& call = f.phones().calls().at(0);
  BOOST_TEST(call.call_sid == call_sid);
  BOOST_TEST(call.media.webhook_status == 200u, call.media.twiml);
  BOOST_TEST(call.media.error == "");
  // Both ways, byte for byte: the agent heard the callee, the callee heard the agent.
  BOOST_TEST((f.gw.agent->record().caller_audio == audio));
  BOOST_TEST((call.media.played_audio == audio));
  // The agent was told it is an outbound call, whom it called, and the request's variables.
  BOOST_TEST_REQUIRE(f.gw.agent->record().initiations.size() == 1u);
  const auto initiation = boost::json::parse(f.gw.agent->record().initiations[0]).as_object();
  const auto& variables = initiation.at("dynamic_variables").as_object();
  BOOST_TEST(text(variables, "direction") == "outbound");
  BOOST_TEST(text(variables, "called_number") == human);
  BOOST_TEST(text(variables, "first_name") == "Ada");
  BOOST_TEST(text(variables, "visits") == "3");
  // Every status event was signed well enough for the gateway to take it.
  std::vector<std::string> statuses;
  for (const auto& [status, answer] : call.callbacks) {
    statuses.push_back(status);
    BOOST_TEST(answer == 204u, status);
  }
  BOOST_TEST((statuses == std::vector<std::string>{"initiated", "ringing", "in-progress", "completed"}));

  const auto record = call_record(f.gw, call_sid);
  BOOST_TEST(text(record, "direction") == "outbound");
  BOOST_TEST(text(record, "outcome") == "agent");
  BOOST_TEST(text(record, "to") == human);
  BOOST_TEST(text(record, "from") == "+15550001001");
  BOOST_TEST(text(record, "route") == "default");
  BOOST_TEST(text(record, "twilio_status") == "completed");
}

BOOST_AUTO_TEST_CASE(a_busy_line_and_a_phone_nobody_answers_are_the_records_outcomes) {
  outbound_gateway f;
  fake::callee_script busy;
  busy.answers = fake::callee_answers::busy;
  f.phones().script(busy_line, busy);
  fake::callee_script unanswered;
  unanswered.answers = fake::callee_answers::no_answer;
  unanswered.ring = 400ms;
  f.phones().script(nobody_home, unanswered);

  const auto first = f.place(R"({"to":")" + busy_line + R"(","from":"+15550001001"})");
  const auto second = f.place(R"({"to":")" + nobody_home + R"(","from":"+15550001001"})");
  BOOST_TEST_REQUIRE(first.status == 201u, first.body);
  BOOST_TEST_REQUIRE(second.status == 201u, second.body);
  f.wait_dialled(2);
  for (const auto& call : f.phones().calls()) BOOST_TEST(call.media.webhook_status == 0u);  // never fetched TwiML

  const auto busy_record = call_record(f.gw, call_sid_of(first));
  BOOST_TEST(text(busy_record, "outcome") == "busy");
  BOOST_TEST(text(busy_record, "twilio_status") == "busy");
  BOOST_TEST(text(busy_record, "direction") == "outbound");
  BOOST_TEST(text(busy_record, "to") == busy_line);
  const auto unanswered_record = call_record(f.gw, call_sid_of(second));
  BOOST_TEST(text(unanswered_record, "outcome") == "no_answer");
  BOOST_TEST(text(unanswered_record, "twilio_status") == "no-answer");
  BOOST_TEST(f.gw.agent->record().conversations == 0);
}

BOOST_AUTO_TEST_CASE(a_retried_request_with_its_idempotency_key_answers_the_first_call_and_dials_once) {
  outbound_gateway f;
  fake::callee_script busy;  // the calls end at once: this test is about the requests
  busy.answers = fake::callee_answers::busy;
  f.phones().script(human, busy);
  const std::string body = R"({"to":")" + human + R"(","from":"+15550001001"})";
  const auto first = f.place(body, "reminder-42");
  const auto again = f.place(body, "reminder-42");
  BOOST_TEST_REQUIRE(first.status == 201u, first.body);
  BOOST_TEST(again.status == 201u);
  BOOST_TEST(call_sid_of(again) == call_sid_of(first));
  BOOST_TEST(f.gw.twilio_api->creations().size() == 1u);
  // The same key for another request is a mistake, said so; a new key is a new call.
  const auto other = f.place(R"({"to":")" + busy_line + R"(","from":"+15550001001"})", "reminder-42");
  BOOST_TEST(other.status == 422u);
  BOOST_TEST(other.body.find("different request") != std::string::npos);
  const auto fresh = f.place(body, "reminder-43");
  BOOST_TEST(fresh.status == 201u);
  BOOST_TEST(call_sid_of(fresh) != call_sid_of(first));
  BOOST_TEST(f.gw.twilio_api->creations().size() == 2u);

  // Two at once with one key: one dials, the other is told it is under way (or gets the first call).
  std::vector<asio::awaitable<http_result>> both;
  for (int i = 0; i < 2; ++i)
    both.push_back(http_call(f.gw.port, http::verb::post, "/api/calls", body,
                             {{"Authorization", "Bearer " + test_admin_token}, {"Idempotency-Key", "reminder-44"}}));
  const auto answers = f.gw.run_all(std::move(both));
  BOOST_TEST(f.gw.twilio_api->creations().size() == 3u);
  BOOST_TEST((answers[0].status == 201u || answers[1].status == 201u));
  for (const auto& a : answers) BOOST_TEST((a.status == 201u || a.status == 409u), a.status);
  f.wait_dialled(3);
}

BOOST_AUTO_TEST_CASE(twilios_refusal_is_answered_502_with_its_code_and_frees_the_key) {
  outbound_gateway f({}, "not-the-gateways-token");  // Twilio will not take the gateway's credentials
  const std::string body = R"({"to":")" + human + R"(","from":"+15550001001"})";
  const auto refused = f.place(body, "try-1");
  BOOST_TEST_REQUIRE(refused.status == 502u, refused.body);
  const auto answer = boost::json::parse(refused.body).as_object();
  BOOST_TEST(answer.at("twilio_code").as_int64() == 20003);
  BOOST_TEST(answer.at("twilio_status").as_int64() == 401);
  BOOST_TEST(refused.body.find(f.gw.server->config().twilio_auth_token) == std::string::npos);
  // Nothing was placed: the same key may be tried again, and Twilio is asked again.
  const auto retried = f.place(body, "try-1");
  BOOST_TEST(retried.status == 502u);
  BOOST_TEST(f.gw.twilio_api->creations().size() == 2u);
  BOOST_TEST(f.gw.logs.str().find(f.gw.server->config().twilio_auth_token) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_requests_get_400_with_the_reason_and_nothing_is_dialled) {
  outbound_gateway f;
  const auto unknown_route = f.place(R"({"to":")" + human + R"(","from":"+15550001001","route":"nope"})");
  BOOST_TEST(unknown_route.status == 400u);
  BOOST_TEST(unknown_route.body == "route: no route is named 'nope'\n");
  const auto bad_number = f.place(R"({"to":"5551234","from":"+15550001001"})");
  BOOST_TEST(bad_number.status == 400u);
  BOOST_TEST(bad_number.body.starts_with("to: expected an E.164 number"));
  const auto no_from = f.place(R"({"to":")" + human + R"("})");
  BOOST_TEST(no_from.status == 400u);
  BOOST_TEST(no_from.body == "from: required (route default has no caller_id)\n");
  const auto amd = f.place(R"({"to":")" + human + R"(","from":"+15550001001","machine_detection":"yes"})");
  BOOST_TEST(amd.status == 400u);
  BOOST_TEST(amd.body == "machine_detection: expected true or false\n");
  const auto bad_key = f.place(R"({"to":")" + human + R"(","from":"+15550001001"})", std::string(256, 'k'));
  BOOST_TEST(bad_key.status == 400u);
  BOOST_TEST(f.place(R"({"to":")" + human + R"("})", "", "").status == 401u);
  BOOST_TEST(f.place(R"({"to":")" + human + R"("})", "", "wrong-token-0123456789").status == 401u);
  BOOST_TEST(f.gw.twilio_api->creations().empty());
  // The outbound TwiML is Twilio's alone: unsigned, it is refused.
  twilio::form_params form = voice_form(sim::random_sid("CA"));
  const auto unsigned_fetch = f.gw.run(http_call(f.gw.port, http::verb::post, "/api/twilio/voice/outbound?route=default",
                                                 twilio::encode_form(form),
                                                 {{"Content-Type", "application/x-www-form-urlencoded"}}));
  BOOST_TEST(unsigned_fetch.status == 403u);
}

BOOST_AUTO_TEST_CASE(without_an_admin_token_the_endpoint_is_off) {
  auto c = gateway_config();
  gateway gw(c);
  const auto r = gw.run(http_call(gw.port, http::verb::post, "/api/calls", R"({"to":"+15557654321"})",
                                  {{"Authorization", "Bearer anything-at-all-here"}}));
  BOOST_TEST(r.status == 404u);
}

BOOST_AUTO_TEST_SUITE_END()
