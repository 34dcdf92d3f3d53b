// The business's webhooks on outbound calls: the pre-call webhook asked when the callee answers (with the
// request's variables), its answer reaching the agent, and the post-call record of a call served and of a
// call that never connected (busy), each once, with the request's variables.
#include <boost/json.hpp>

#include "integration/outbound_fixture.hpp"
#include "integration/webhook_fixture.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

const std::string human = "+15557654331";
const std::string busy_line = "+15557654332";

struct outbound_with_receiver {
  std::unique_ptr<fake::webhook_receiver> receiver;  // on the gateway's loop; gone before it
  outbound_gateway f;

  explicit outbound_with_receiver(fake::receiver_script script)
      : f({}, "", {}, 10, [&](asio::io_context& io, app::config& c) {
          script.secret = test_webhook_secret;
          receiver = std::make_unique<fake::webhook_receiver>(io, script);
          c.webhook_secret = test_webhook_secret;
          c.precall_webhook_url = receiver->url("/precall");
          c.postcall_webhook_url = receiver->url("/postcall");
          c.postcall_status_wait = 100ms;
        }) {}
  ~outbound_with_receiver() { receiver.reset(); }

  std::vector<boost::json::object> bodies(std::string_view path) const {
    std::vector<boost::json::object> out;
    for (const auto& r : receiver->record().requests)
      if (r.target == path) out.push_back(boost::json::parse(r.body).as_object());
    return out;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(outbound_webhooks)

BOOST_AUTO_TEST_CASE(an_answered_call_asks_the_precall_webhook_and_both_calls_are_sent_once) {
  fake::receiver_script script;
  script.answer_body = R"({"dynamic_variables": {"balance": "12.50"}})";
  outbound_with_receiver w(script);
  const auto audio = speech(20, 61);
  fake::callee_script callee;
  callee.audio = audio;
  callee.hang_up_after_bytes = audio.size();
  callee.linger = 20s;
  w.f.phones().script(human, callee);
  fake::callee_script busy;
  busy.answers = fake::callee_answers::busy;
  w.f.phones().script(busy_line, busy);

  const auto served = w.f.place(R"({"to":")" + human + R"(","from":"+15550001001","dynamic_variables":{"first_name":"Ada"}})");
  const auto refused = w.f.place(R"({"to":")" + busy_line + R"(","from":"+15550001001","dynamic_variables":{"first_name":"Bo"}})");
  BOOST_TEST_REQUIRE(served.status == 201u, served.body);
  BOOST_TEST_REQUIRE(refused.status == 201u, refused.body);
  const auto served_sid = call_sid_of(served), refused_sid = call_sid_of(refused);
  w.f.wait_dialled(2);
  w.f.gw.run_until([&] { return w.receiver->record().accepted.size() == 3; });  // one pre-call, two post-call
  w.f.gw.io.run_for(500ms);

  // Pre-call: once, for the answered call only, with whom it called and the request's variables.
  const auto asked = w.bodies("/precall");
  BOOST_TEST_REQUIRE(asked.size() == 1u);
  BOOST_TEST(asked[0].at("call_sid").as_string() == served_sid.c_str());
  BOOST_TEST(asked[0].at("direction").as_string() == "outbound");
  BOOST_TEST(asked[0].at("to").as_string() == human.c_str());
  BOOST_TEST(asked[0].at("row_variables").at("first_name").as_string() == "Ada");
  BOOST_TEST(!asked[0].contains("campaign"));
  const auto initiation = boost::json::parse(w.f.gw.agent->record().initiations.at(0)).as_object();
  BOOST_TEST(initiation.at("dynamic_variables").at("balance").as_string() == "12.50");
  BOOST_TEST(initiation.at("dynamic_variables").at("first_name").as_string() == "Ada");

  // Post-call: each call once, the busy one with its outcome from Twilio's status alone.
  const auto sent = w.bodies("/postcall");
  BOOST_TEST_REQUIRE(sent.size() == 2u);
  std::map<std::string, boost::json::object> by_sid;
  for (const auto& b : sent) by_sid[std::string(b.at("call").at("call_sid").as_string())] = b.at("call").as_object();
  BOOST_TEST_REQUIRE(by_sid.count(served_sid) == 1u);
  BOOST_TEST_REQUIRE(by_sid.count(refused_sid) == 1u);
  BOOST_TEST(by_sid[served_sid].at("outcome").as_string() == "agent");
  BOOST_TEST(by_sid[served_sid].at("direction").as_string() == "outbound");
  BOOST_TEST(by_sid[served_sid].at("twilio_status").as_string() == "completed");
  BOOST_TEST(by_sid[served_sid].at("variables").at("first_name").as_string() == "Ada");
  BOOST_TEST(by_sid[served_sid].at("campaign").is_null());
  BOOST_TEST(by_sid[refused_sid].at("outcome").as_string() == "busy");
  BOOST_TEST(by_sid[refused_sid].at("variables").at("first_name").as_string() == "Bo");
  BOOST_TEST(w.receiver->record().bad_signatures == 0);
  for (const auto& [key, times] : w.receiver->record().accepted) BOOST_TEST(times == 1, key);
}

BOOST_AUTO_TEST_SUITE_END()
