// The business's webhooks without sockets: the signature a receiver checks, what one post-call attempt
// comes to, and what a pre-call answer may hand the agent.
#include <boost/test/unit_test.hpp>

#include "server/precall.hpp"
#include "server/webhook_policy.hpp"
#include "voicebridge/elevenlabs/agent_messages.hpp"

using namespace voicebridge;
using namespace voicebridge::server;
using kind = records::delivery_result::kind;

namespace {
constexpr std::int64_t created = 1'796'225'400'000, second = 1000, hour = 3600 * second;

records::webhook_delivery delivery(unsigned attempts) {
  records::webhook_delivery d;
  d.id = "WH0123456789abcdef0123456789abcdef";
  d.attempts = attempts;
  d.window_from_ms = created;
  return d;
}

attempt_answer status(unsigned s) { return {s, {}, std::nullopt}; }
}  // namespace

BOOST_AUTO_TEST_SUITE(webhook_policy)

BOOST_AUTO_TEST_CASE(the_signature_is_stripes_scheme_over_the_timestamp_and_the_body) {
  // The HMAC computed by Python's hmac module (independent of OpenSSL's use here).
  BOOST_TEST(webhook_signature("whsec_test_secret_1234", R"({"id":"WH1"})", 1'700'000'000) ==
             "t=1700000000,v1=1d386f7c602f2c19f1c0e735dd4fe8dec8299ffb27d057dad6caf25f0abfc8f6");
  BOOST_TEST(webhook_signature("another_secret_5678", R"({"id":"WH1"})", 1'700'000'000) !=
             webhook_signature("whsec_test_secret_1234", R"({"id":"WH1"})", 1'700'000'000));
}

BOOST_AUTO_TEST_CASE(a_2xx_delivers_and_a_refusal_parks_at_once) {
  const retry_policy policy;
  for (unsigned s : {200u, 201u, 202u, 204u}) BOOST_TEST((after_delivery_attempt(status(s), delivery(0), policy, created, 0.5).what == kind::delivered));
  for (unsigned s : {301u, 400u, 401u, 403u, 404u, 410u, 413u}) {
    const auto r = after_delivery_attempt(status(s), delivery(0), policy, created, 0.5);
    BOOST_TEST((r.what == kind::park));
    BOOST_TEST(r.error.find("HTTP " + std::to_string(s)) == 0u);
  }
}

BOOST_AUTO_TEST_CASE(errors_timeouts_5xx_and_429_back_off_exponentially_with_jitter) {
  retry_policy policy;
  policy.first_retry = std::chrono::seconds(5);
  const attempt_answer refused{0, "connect: Connection refused", std::nullopt};
  for (const auto& answer : {status(500), status(502), status(503), status(429), refused}) {
    // 5 s, 10 s, 20 s, ...: scaled by the jitter to between half and all of it.
    for (unsigned attempts = 0; attempts < 5; ++attempts) {
      const std::int64_t full = (5 * second) << attempts;
      const auto low = after_delivery_attempt(answer, delivery(attempts), policy, created, 0.0);
      const auto high = after_delivery_attempt(answer, delivery(attempts), policy, created, 0.999);
      BOOST_TEST((low.what == kind::retry));
      BOOST_TEST(low.at_ms - created == full / 2);
      BOOST_TEST(high.at_ms - created <= full);
      BOOST_TEST(high.at_ms - created > full * 9 / 10);
      BOOST_TEST(low.error == describe(answer));
    }
  }
  BOOST_TEST(describe(refused) == "connect: Connection refused");
}

BOOST_AUTO_TEST_CASE(the_backoff_stops_growing_at_an_hour_and_honours_retry_after) {
  retry_policy policy;
  policy.window = std::chrono::hours(1000);
  const auto late = after_delivery_attempt(status(503), delivery(60), policy, created, 0.999);  // 2^60 would overflow
  BOOST_TEST((late.what == kind::retry));
  BOOST_TEST(late.at_ms - created <= hour);
  BOOST_TEST(late.at_ms - created > hour / 2);
  attempt_answer slow_down = status(429);
  slow_down.retry_after = std::chrono::seconds(120);
  BOOST_TEST(after_delivery_attempt(slow_down, delivery(0), policy, created, 0.0).at_ms - created == 120 * second);
  slow_down.retry_after = std::chrono::hours(48);  // bounded like the backoff
  BOOST_TEST(after_delivery_attempt(slow_down, delivery(0), policy, created, 0.0).at_ms - created == hour);
}

BOOST_AUTO_TEST_CASE(a_delivery_is_parked_once_its_next_try_falls_past_the_window) {
  retry_policy policy;
  policy.first_retry = std::chrono::seconds(10);
  policy.window = std::chrono::minutes(1);
  BOOST_TEST((after_delivery_attempt(status(500), delivery(0), policy, created + 40 * second, 0.999).what == kind::retry));
  const auto parked = after_delivery_attempt(status(500), delivery(2), policy, created + 40 * second, 0.999);  // +40 s > 60 s
  BOOST_TEST((parked.what == kind::park));
  BOOST_TEST(parked.error == "HTTP 500: retry window ended");
  // A manual retry starts the window again (window_from_ms moves): it is tried once more.
  auto again = delivery(2);
  again.window_from_ms = created + 40 * second;
  BOOST_TEST((after_delivery_attempt(status(500), again, policy, created + 40 * second, 0.999).what == kind::retry));
}

BOOST_AUTO_TEST_CASE(a_precall_answer_hands_over_checked_variables_and_an_override) {
  const auto answer = parse_precall_answer(
      R"({"dynamic_variables": {"customer_name": "Ada", "balance": 12.5, "vip": true, "visits": 3},
          "conversation_config_override": {"agent": {"first_message": "Hello Ada"}}})");
  BOOST_REQUIRE(answer);
  BOOST_TEST(answer->dynamic_variables.size() == 4u);
  BOOST_TEST(answer->dynamic_variables[1].second == "12.5");
  BOOST_TEST(answer->dynamic_variables[2].second == "true");
  BOOST_TEST(answer->config_override_json == R"({"agent":{"first_message":"Hello Ada"}})");
  BOOST_TEST(parse_precall_answer("")->dynamic_variables.empty());  // 204 No Content: the defaults
  // The call's own facts stay the gateway's: named, they are set aside, not taken (nor a reason to refuse).
  const auto echoed = parse_precall_answer(R"({"dynamic_variables": {"caller_number": "+15550000000", "tier": "gold"}})");
  BOOST_REQUIRE(echoed);
  BOOST_TEST(echoed->dynamic_variables.size() == 1u);
  BOOST_TEST(echoed->ignored == std::vector<std::string>{"caller_number"});
  BOOST_TEST(parse_precall_answer("{}")->config_override_json.empty());
}

BOOST_AUTO_TEST_CASE(a_malformed_precall_answer_is_refused_with_its_reason) {
  const std::pair<const char*, const char*> cases[]{
      {"<html>oops</html>", "not a JSON object"},
      {"[1, 2]", "not a JSON object"},
      {R"({"dynamic_variables": [1]})", "dynamic_variables: expected an object"},
      {R"({"dynamic_variables": {"name": {"nested": 1}}})", "name: expected a string"},
      {R"({"dynamic_variables": {"bad name": "x"}})", "is not a name"},
      {R"({"conversation_config_override": "agent"})", "conversation_config_override: expected an object"},
      {R"({"surprise": 1})", "unknown field surprise"},
  };
  for (const auto& [body, reason] : cases) {
    const auto answer = parse_precall_answer(body);
    BOOST_TEST_INFO(body);
    BOOST_REQUIRE(!answer);
    BOOST_TEST(answer.error().message.find(reason) != std::string::npos, answer.error().message);
  }
  BOOST_TEST(!parse_precall_answer(R"({"dynamic_variables": {"v": ")" + std::string(600, 'x') + R"("}})"));
  BOOST_TEST(!parse_precall_answer(R"({"conversation_config_override": {"agent": ")" + std::string(17000, 'x') + R"("}})"));
}

BOOST_AUTO_TEST_CASE(the_precall_request_names_the_call_and_an_outbound_calls_row) {
  precall_request r{"CA0123", "outbound", "+15550001111", "+15550002222", "sales", "CP42", {{"name", "Ada"}}};
  BOOST_TEST(precall_body(r) ==
             R"({"call_sid":"CA0123","direction":"outbound","from":"+15550001111","to":"+15550002222","route":"sales",)"
             R"("campaign":"CP42","row_variables":{"name":"Ada"}})");
  r.campaign.clear();
  r.row_variables.clear();
  BOOST_TEST(precall_body(r).find("campaign") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(precall_variables_lay_over_the_routes_but_not_the_calls_facts) {
  elevenlabs::initiation_client_data init;
  init.dynamic_variables = {{"caller_number", "+15550001111"}, {"tier", "basic"}};
  init.config_override_json = R"({"agent":{"language":"en","first_message":"Hi"},"tts":{"voice_id":"v1"}})";
  elevenlabs::merge_precall(init, {{"tier", "gold"}, {"caller_number", "+19999999999"}, {"name", "Ada"}},
                            R"({"agent":{"first_message":"Hello Ada"}})");
  BOOST_TEST(init.dynamic_variables.size() == 3u);
  BOOST_TEST(init.dynamic_variables[0].second == "+15550001111");
  BOOST_TEST(init.dynamic_variables[1].second == "gold");
  BOOST_TEST(init.dynamic_variables[2].first == "name");
  BOOST_TEST(init.config_override_json ==
             R"({"agent":{"language":"en","first_message":"Hello Ada"},"tts":{"voice_id":"v1"}})");
}

BOOST_AUTO_TEST_SUITE_END()
