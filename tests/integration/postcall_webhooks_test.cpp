// Post-call webhooks over real sockets: the gateway, the simulator's calls and the business's receiver
// (tools/webhook-receiver, over https with a test CA, checking each signature): a record delivered exactly
// once through three 500s, its signature checked by Python; a delivery waiting for its retry survives a
// restart; a receiver that never answers gets it parked after the (shortened) window, and a retry by hand
// delivers it.
#include <boost/json.hpp>

#include "integration/test_pki.hpp"
#include "integration/webhook_fixture.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

std::uint64_t deliveries(const char* result) { return app::metrics().webhook_deliveries.value("postcall", result); }

std::string delivery_id(const std::string& call_sid) { return "WH" + call_sid.substr(2); }

}  // namespace

BOOST_AUTO_TEST_SUITE(postcall_webhooks)

BOOST_AUTO_TEST_CASE(a_record_is_delivered_once_through_three_500s_and_its_signature_verifies) {
  test_pki pki;
  trusted_ca trust(pki.dir + "/ca.pem");
  fake::receiver_script script;
  script.statuses = {500, 500, 500, 200};
  script.tls_certificate_chain = pki.dir + "/server.pem";
  script.tls_private_key = pki.dir + "/server.key";
  const auto retried = deliveries("retried"), delivered = deliveries("delivered");
  webhook_gateway f(script, [](app::config& c, const std::string& url) {
    c.postcall_webhook_url = url;
    c.postcall_first_retry = 100ms;
    c.postcall_status_wait = 60s;  // only the status callback below makes it due
  });
  BOOST_TEST(f.receiver->url().starts_with("https://localhost:"));
  const auto caller = speech(10, 41);
  auto s = f.gw.run(sim::run_call(f.gw.caller(caller)));
  f.gw.settle();
  BOOST_TEST_REQUIRE(f.gw.server->wait_records_stored(20s));
  f.gw.io.run_for(300ms);
  BOOST_TEST(f.received().requests.empty());  // waiting for Twilio's final status
  f.completed(s.call_sid);
  f.gw.run_until([&] { return !f.received().accepted.empty(); });
  f.gw.io.run_for(1500ms);  // nothing more comes: it was delivered
  const auto& requests = f.received().requests;
  BOOST_TEST_REQUIRE(requests.size() == 4u);
  BOOST_TEST(f.received().bad_signatures == 0);
  BOOST_TEST(f.received().accepted.size() == 1u);
  BOOST_TEST(f.received().accepted.at(delivery_id(s.call_sid)) == 1);
  for (const auto& r : requests) {
    BOOST_TEST(r.idempotency_key == delivery_id(s.call_sid));  // the same key every time: one record
    BOOST_TEST(r.content_type == "application/json");
    BOOST_TEST(python_verifies(test_webhook_secret, r.signature, r.body));
    BOOST_TEST(!python_verifies("a-different-secret-000", r.signature, r.body));
  }
  BOOST_TEST(!python_verifies(test_webhook_secret, requests[0].signature, requests[0].body + " "));
  const auto body = boost::json::parse(requests.back().body).as_object();
  BOOST_TEST(body.at("id").as_string() == delivery_id(s.call_sid).c_str());
  BOOST_TEST(body.at("type").as_string() == "call.ended");
  const auto& call = body.at("call").as_object();
  BOOST_TEST(call.at("call_sid").as_string() == s.call_sid.c_str());
  BOOST_TEST(call.at("stream_sid").as_string() == s.stream_sid.c_str());
  BOOST_TEST(call.at("outcome").as_string() == "agent");
  BOOST_TEST(call.at("route").as_string() == "default");
  BOOST_TEST(call.at("direction").as_string() == "inbound");
  BOOST_TEST(call.at("twilio_status").as_string() == "completed");  // the record is complete
  BOOST_TEST(call.at("twilio_duration_s").as_int64() == 4);
  BOOST_TEST(call.at("record_url").as_string() == ("https://gw.example.test/api/calls/" + s.call_sid).c_str());
  BOOST_TEST(call.contains("transcript"));
  BOOST_TEST(requests.back().body.find(test_webhook_secret) == std::string::npos);
  BOOST_TEST(deliveries("retried") == retried + 3);
  BOOST_TEST(deliveries("delivered") == delivered + 1);
  // The queue says so too; the log names the delivery, never its body.
  const auto shown = api_get(f.gw, "/api/webhooks/" + delivery_id(s.call_sid));
  BOOST_TEST_REQUIRE(shown.status == 200u, shown.body);
  const auto d = boost::json::parse(shown.body).as_object();
  BOOST_TEST(d.at("state").as_string() == "delivered");
  BOOST_TEST(d.at("attempts").as_int64() == 4);
  BOOST_TEST(f.gw.logs.str().find("post-call webhook delivered") != std::string::npos);
  BOOST_TEST(f.gw.logs.str().find("call.ended") == std::string::npos);  // no body at info level
  const auto metrics = app::render_metrics();
  BOOST_TEST(metrics.find("voicebridge_webhook_deliveries_total{kind=\"postcall\",result=\"delivered\"}") != std::string::npos);
  BOOST_TEST(metrics.find("voicebridge_webhook_queue_depth") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_delivery_waiting_for_its_retry_is_sent_after_a_restart) {
  const temp_dir state;
  std::string call_sid;
  fake::receiver_script refusing;
  refusing.statuses = {503};
  {
    webhook_gateway first(refusing, [&](app::config& c, const std::string& url) {
      c.state_dir = state.path;
      c.postcall_webhook_url = url;
      c.postcall_first_retry = 3s;  // the restart comes while it waits
      c.postcall_status_wait = 100ms;
    });
    first.gw.keep_state_dir = true;
    auto s = first.gw.run(sim::run_call(first.gw.caller(speech(8, 42))));
    call_sid = s.call_sid;
    first.gw.settle();
    // Its first attempt failed and was recorded: it waits for its retry when the gateway goes.
    first.gw.run_until([&] {
      const auto shown = api_get(first.gw, "/api/webhooks/" + delivery_id(call_sid));
      return shown.status == 200u && boost::json::parse(shown.body).at("attempts").as_int64() == 1;
    });
    BOOST_TEST(first.received().requests.size() == 1u);
    BOOST_TEST(first.received().accepted.empty());
  }
  fake::receiver_script accepting;
  webhook_gateway second(accepting, [&](app::config& c, const std::string& url) {
    c.state_dir = state.path;
    c.postcall_webhook_url = url;
  });
  second.gw.run_until([&] { return !second.received().accepted.empty(); });
  BOOST_TEST(second.received().accepted.at(delivery_id(call_sid)) == 1);
  const auto body = boost::json::parse(second.received().requests.back().body).as_object();
  BOOST_TEST(body.at("call").at("call_sid").as_string() == call_sid.c_str());
  const auto d = boost::json::parse(api_get(second.gw, "/api/webhooks/" + delivery_id(call_sid)).body).as_object();
  BOOST_TEST(d.at("attempts").as_int64() == 2);
}

BOOST_AUTO_TEST_CASE(a_receiver_that_never_answers_gets_it_parked_and_a_retry_by_hand_delivers_it) {
  fake::receiver_script silent;
  silent.never_answer = true;
  const auto parked = deliveries("parked");
  webhook_gateway f(silent, [](app::config& c, const std::string& url) {
    c.postcall_webhook_url = url;
    c.postcall_timeout = 300ms;
    c.postcall_first_retry = 100ms;
    c.postcall_retry_window = 1500ms;  // POSTCALL_RETRY_HOURS, shortened
    c.postcall_status_wait = 100ms;
  });
  auto s = f.gw.run(sim::run_call(f.gw.caller(speech(8, 43))));
  f.gw.settle();
  const auto id = delivery_id(s.call_sid);
  http_result failed;
  f.gw.run_until([&] {
    failed = api_get(f.gw, "/api/webhooks/failed");
    return failed.body.find(id) != std::string::npos;
  });
  const auto list = boost::json::parse(failed.body).at("webhooks").as_array();
  BOOST_TEST_REQUIRE(list.size() == 1u);
  const auto& entry = list[0].as_object();
  BOOST_TEST(entry.at("call_sid").as_string() == s.call_sid.c_str());
  BOOST_TEST(entry.at("state").as_string() == "failed");
  BOOST_TEST(entry.at("attempts").as_int64() >= 2);
  BOOST_TEST(std::string(entry.at("last_error").as_string()).find("retry window ended") != std::string::npos);
  BOOST_TEST(f.received().requests.size() == static_cast<std::size_t>(entry.at("attempts").as_int64()));
  BOOST_TEST(deliveries("parked") == parked + 1);
  BOOST_TEST(f.gw.logs.str().find("post-call webhook parked as failed") != std::string::npos);

  // The API: the token, ids it knows, methods it takes.
  BOOST_TEST(api_get(f.gw, "/api/webhooks/failed", "").status == 401u);
  BOOST_TEST(api_get(f.gw, "/api/webhooks/failed?limit=0").status == 400u);
  BOOST_TEST(api_post(f.gw, "/api/webhooks/" + id + "/retry", "").status == 401u);
  BOOST_TEST(api_post(f.gw, "/api/webhooks/WH" + std::string(32, 'f') + "/retry").status == 404u);
  BOOST_TEST(api_post(f.gw, "/api/webhooks/../../etc/retry").status == 404u);
  BOOST_TEST(api_get(f.gw, "/api/webhooks/" + id + "/retry").status == 405u);

  // The receiver is fixed; a person retries it.
  f.receiver->script().never_answer = false;
  const auto retry = api_post(f.gw, "/api/webhooks/" + id + "/retry");
  BOOST_TEST(retry.status == 202u, retry.body);
  f.gw.run_until([&] { return !f.received().accepted.empty(); });
  BOOST_TEST(f.received().accepted.at(id) == 1);
  BOOST_TEST(api_post(f.gw, "/api/webhooks/" + id + "/retry").status == 409u);  // delivered already
  BOOST_TEST(boost::json::parse(api_get(f.gw, "/api/webhooks/failed").body).at("webhooks").as_array().empty());
}

BOOST_AUTO_TEST_CASE(a_refusing_receiver_gets_it_parked_at_once_and_routes_without_a_receiver_queue_nothing) {
  {
    fake::receiver_script gone;
    gone.statuses = {410};
    webhook_gateway f(gone, [](app::config& c, const std::string& url) {
      c.postcall_webhook_url = url;
      c.postcall_status_wait = 100ms;
    });
    auto s = f.gw.run(sim::run_call(f.gw.caller(speech(8, 44))));
    f.gw.settle();
    f.gw.run_until([&] { return api_get(f.gw, "/api/webhooks/failed").body.find(s.call_sid.substr(2)) != std::string::npos; });
    BOOST_TEST(f.received().requests.size() == 1u);  // not retried: the receiver said no
    const auto d = boost::json::parse(api_get(f.gw, "/api/webhooks/" + delivery_id(s.call_sid)).body).as_object();
    BOOST_TEST(d.at("last_error").as_string() == "HTTP 410: refused by the receiver");
  }

  webhook_gateway quiet(fake::receiver_script{}, [](app::config&, const std::string&) {});  // no receiver configured
  auto t = quiet.gw.run(sim::run_call(quiet.gw.caller(speech(8, 45))));
  quiet.gw.settle();
  BOOST_TEST_REQUIRE(quiet.gw.server->wait_records_stored(20s));
  BOOST_TEST(api_get(quiet.gw, "/api/webhooks/" + delivery_id(t.call_sid)).status == 404u);
}

BOOST_AUTO_TEST_SUITE_END()
