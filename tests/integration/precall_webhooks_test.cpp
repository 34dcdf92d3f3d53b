// The pre-call webhook over real sockets: the simulator's call, the gateway, the fake ElevenLabs agent and
// the business's receiver. Variables it answers reach the agent's initiation data; a late, failing or
// garbled answer leaves the route's defaults, and the call is served either way.
#include <boost/json.hpp>

#include "integration/webhook_fixture.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

fake::agent_script greeting_agent() {
  fake::agent_script script;
  script.greeting = speech(5, 7);
  return script;
}

// One call through a gateway whose receiver answers as `script` says; the agent's initiation data.
struct precall_run {
  sim::call_summary call;
  boost::json::object initiation;
  fake::receiver_record received;
  std::string logs;
};

precall_run call_with(fake::receiver_script script, bool prewarm = true) {
  webhook_gateway f(script, [&](app::config& c, const std::string& url) {
    c.precall_webhook_url = url;
    c.precall_timeout = 400ms;
    c.prewarm = prewarm;
  }, greeting_agent());
  const auto caller = speech(10, 51);
  auto s = f.gw.run(sim::run_call(f.gw.caller(caller, greeting_agent().greeting.size() + caller.size())));
  f.gw.settle();
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.received_audio == concat(greeting_agent().greeting, caller));  // served, whatever the receiver did
  BOOST_TEST_REQUIRE(f.gw.agent->record().initiations.size() == 1u);
  return {s, boost::json::parse(f.gw.agent->record().initiations[0]).as_object(), f.received(), f.gw.logs.str()};
}

std::uint64_t precalls(const char* result) { return app::metrics().webhook_deliveries.value("precall", result); }

}  // namespace

BOOST_AUTO_TEST_SUITE(precall_webhooks)

BOOST_AUTO_TEST_CASE(the_answers_variables_and_override_reach_the_agent) {
  for (const bool prewarm : {true, false}) {
    fake::receiver_script script;
    script.answer_body =
        R"({"dynamic_variables": {"customer_name": "Ada Lovelace", "open_tickets": 2, "caller_number": "+10000000000"},)"
        R"( "conversation_config_override": {"agent": {"first_message": "Hello Ada"}}})";
    const auto ok = precalls("ok");
    const auto r = call_with(script, prewarm);
    BOOST_TEST_INFO("prewarm " << prewarm);
    BOOST_TEST(precalls("ok") == ok + 1, r.logs);
    // The request: who calls whom, signed (the receiver checks it), once.
    BOOST_TEST_REQUIRE(r.received.requests.size() == 1u);
    BOOST_TEST(r.received.bad_signatures == 0);
    const auto asked = boost::json::parse(r.received.requests[0].body).as_object();
    BOOST_TEST(asked.at("call_sid").as_string() == r.call.call_sid.c_str());
    BOOST_TEST(asked.at("direction").as_string() == "inbound");
    BOOST_TEST(asked.at("from").as_string() == "+15551230001");
    BOOST_TEST(asked.at("to").as_string() == "+15559870002");
    BOOST_TEST(asked.at("route").as_string() == "default");
    BOOST_TEST(python_verifies(test_webhook_secret, r.received.requests[0].signature, r.received.requests[0].body));
    // The answer, in the initiation: the business's variables, not over the call's own facts.
    const auto& vars = r.initiation.at("dynamic_variables").as_object();
    BOOST_TEST(vars.at("customer_name").as_string() == "Ada Lovelace");
    BOOST_TEST(vars.at("open_tickets").as_string() == "2");
    BOOST_TEST(vars.at("caller_number").as_string() == "+15551230001");
    BOOST_TEST(r.initiation.at("conversation_config_override").at("agent").at("first_message").as_string() == "Hello Ada");
  }
}

BOOST_AUTO_TEST_CASE(a_late_failing_or_garbled_answer_leaves_the_defaults_and_the_call_is_served) {
  struct variant {
    const char* name;
    fake::receiver_script script;
    const char* result;
  };
  fake::receiver_script late;
  late.delay_ms = 2000;  // past PRECALL_TIMEOUT_MS (400 ms here)
  late.answer_body = R"({"dynamic_variables": {"customer_name": "Late"}})";
  fake::receiver_script failing;
  failing.statuses = {500};
  fake::receiver_script garbled;
  garbled.answer_body = "<html>maintenance</html>";
  fake::receiver_script wrong_types;
  wrong_types.answer_body = R"({"dynamic_variables": {"customer_name": {"first": "Ada"}}})";
  for (const auto& v : {variant{"late", late, "timeout"}, variant{"failing", failing, "error"},
                        variant{"garbled", garbled, "malformed"}, variant{"wrong types", wrong_types, "malformed"}}) {
    BOOST_TEST_INFO(v.name);
    const auto before = precalls(v.result);
    const auto r = call_with(v.script);
    BOOST_TEST(precalls(v.result) == before + 1);
    BOOST_TEST(!r.initiation.at("dynamic_variables").as_object().contains("customer_name"));
    BOOST_TEST(r.initiation.at("dynamic_variables").at("caller_number").as_string() == "+15551230001");
    BOOST_TEST(r.logs.find("pre-call webhook unusable: the route's defaults are used") != std::string::npos);
    BOOST_TEST(r.logs.find(std::string("result=") + v.result) != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
