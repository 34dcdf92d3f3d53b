#include <tinyxml2.h>

#include <boost/test/unit_test.hpp>
#include <sstream>

#include "voicebridge/twilio/signature.hpp"
#include "voicebridge/twilio/stream_token.hpp"
#include "voicebridge/twilio/webhook.hpp"

using namespace voicebridge;
using namespace voicebridge::twilio;

namespace {

app::config test_config() {
  app::config c;
  c.public_base_url = "https://gw.example.com";
  c.twilio_auth_token = "auth-token-for-tests";
  c.twilio_stream_token = "stream-token-key-for-tests";
  return c;
}

const std::string body = "CallSid=CA0123456789abcdef0123456789abcdef&From=%2B15551230001&To=%2B15559870002";

std::string sign(const app::config& c, std::string_view target, std::string_view form_body) {
  return compute_signature(c.twilio_auth_token, c.public_base_url + std::string(target), *parse_form(form_body));
}

// Captures log lines for the duration of a test.
struct log_capture {
  std::ostringstream out;
  log_capture() { app::set_log_sink(&out); }
  ~log_capture() { app::set_log_sink(nullptr); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(webhook)

BOOST_AUTO_TEST_CASE(signed_form_is_accepted) {
  const auto c = test_config();
  const std::string target = "/api/twilio/voice/inbound";
  auto r = authenticate_request({target, "application/x-www-form-urlencoded", sign(c, target, body), body}, c);
  BOOST_TEST_REQUIRE(std::holds_alternative<form_params>(r));
  BOOST_TEST(std::get<form_params>(r).get_or("From", "") == "+15551230001");
}

BOOST_AUTO_TEST_CASE(query_string_is_part_of_the_signed_url) {
  const auto c = test_config();
  const std::string target = "/api/twilio/voice/inbound?tenant=a%20b";
  auto ok = authenticate_request({target, "application/x-www-form-urlencoded", sign(c, target, body), body}, c);
  BOOST_TEST(std::holds_alternative<form_params>(ok));
  auto moved = authenticate_request({"/api/twilio/voice/inbound?tenant=other", "application/x-www-form-urlencoded",
                                     sign(c, target, body), body}, c);
  BOOST_TEST(std::get<http_answer>(moved).status == 403u);
}

BOOST_AUTO_TEST_CASE(missing_or_wrong_signature_is_403_and_never_logged) {
  log_capture logs;
  const auto c = test_config();
  const std::string target = "/api/twilio/voice/inbound";
  const auto good = sign(c, target, body);
  auto wrong = authenticate_request({target, "application/x-www-form-urlencoded", "AAAA" + good.substr(4), body}, c);
  BOOST_TEST(std::get<http_answer>(wrong).status == 403u);
  auto missing = authenticate_request({target, "application/x-www-form-urlencoded", "", body}, c);
  BOOST_TEST(std::get<http_answer>(missing).status == 403u);
  auto tampered = authenticate_request({target, "application/x-www-form-urlencoded", good, body + "&Extra=1"}, c);
  BOOST_TEST(std::get<http_answer>(tampered).status == 403u);
  BOOST_TEST(logs.out.str().find("signature invalid") != std::string::npos);
  BOOST_TEST(logs.out.str().find(good.substr(4)) == std::string::npos);
  BOOST_TEST(logs.out.str().find(c.twilio_auth_token) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_secrets_are_500_naming_the_variable) {
  log_capture logs;
  auto c = test_config();
  c.twilio_stream_token.clear();
  auto r = authenticate_request({"/api/twilio/voice/inbound", "application/x-www-form-urlencoded", "x", body}, c);
  BOOST_TEST(std::get<http_answer>(r).status == 500u);
  BOOST_TEST(logs.out.str().find("TWILIO_STREAM_TOKEN") != std::string::npos);
  c = test_config();
  c.twilio_auth_token.clear();
  r = authenticate_request({"/api/twilio/voice/inbound", "application/x-www-form-urlencoded", "x", body}, c);
  BOOST_TEST(std::get<http_answer>(r).body.find("TWILIO_AUTH_TOKEN") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_body_and_wrong_content_type) {
  const auto c = test_config();
  auto bad = authenticate_request({"/x", "application/x-www-form-urlencoded", "x", "a=%zz"}, c);
  BOOST_TEST(std::get<http_answer>(bad).status == 400u);
  auto xml = authenticate_request({"/x", "text/xml", "x", "<a/>"}, c);
  BOOST_TEST(std::get<http_answer>(xml).status == 415u);
}

BOOST_AUTO_TEST_CASE(answer_connects_the_stream_with_a_token_for_this_call) {
  const auto c = test_config();
  const auto now = std::chrono::system_clock::now();
  auto answer = answer_voice_webhook(*parse_form(body), c, "sales", now);
  BOOST_TEST(answer.status == 200u);
  BOOST_TEST(answer.content_type == "text/xml");
  tinyxml2::XMLDocument doc;
  BOOST_TEST_REQUIRE(doc.Parse(answer.body.c_str()) == tinyxml2::XML_SUCCESS);
  auto* connect = doc.FirstChildElement("Response")->FirstChildElement("Connect");
  BOOST_TEST(std::string(connect->Attribute("action")) == "https://gw.example.com/api/twilio/voice/stream-ended");
  auto* stream = connect->FirstChildElement("Stream");
  BOOST_TEST(std::string(stream->Attribute("url")) == "wss://gw.example.com/ws/twilio/stream");
  std::map<std::string, std::string> params;
  for (auto* p = stream->FirstChildElement("Parameter"); p; p = p->NextSiblingElement("Parameter"))
    params[p->Attribute("name")] = p->Attribute("value");
  BOOST_TEST(params["call_sid"] == "CA0123456789abcdef0123456789abcdef");
  BOOST_TEST(params["from"] == "+15551230001");
  BOOST_TEST(params["route"] == "sales");
  BOOST_TEST(verify_stream_token(c.twilio_stream_token, params["stream_token"], params["call_sid"], params["route"], now) ==
             stream_token_status::valid);
  BOOST_TEST(answer.body.find(c.twilio_stream_token) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(answer_refuses_missing_call_sid) {
  BOOST_TEST(answer_voice_webhook(*parse_form("From=x"), test_config(), "sales", std::chrono::system_clock::now()).status == 400u);
}

BOOST_AUTO_TEST_CASE(stream_ended_hangs_up_or_apologises) {
  const auto c = test_config();
  BOOST_TEST(answer_stream_ended(true, c).body.find("<Say") == std::string::npos);
  BOOST_TEST(answer_stream_ended(false, c).body.find(c.unavailable_message) != std::string::npos);
}

// A value TwiML cannot carry is refused with a 400 and a log line naming the parameter (never its value); one it
// can carry reads back exactly, tab and newline included.
BOOST_AUTO_TEST_CASE(parameters_twiml_cannot_carry_are_refused_and_the_rest_read_back_exactly) {
  const auto c = test_config();
  for (std::string from : {"%1B%5B2J", "a%00b", "%01", "%FF"}) {
    log_capture capture;
    const auto answer = answer_voice_webhook(*parse_form("CallSid=CA0123456789abcdef0123456789abcdef&From=" + from), c, "sales",
                                             std::chrono::system_clock::now());
    BOOST_TEST(answer.status == 400u, from);
    BOOST_TEST(answer.body.find("'from'") != std::string::npos, answer.body);
    BOOST_TEST(capture.out.str().find("parameter=from") != std::string::npos, capture.out.str());
  }
  const auto answer = answer_voice_webhook(*parse_form("CallSid=CA0123456789abcdef0123456789abcdef&From=Bob%09%0D%0ASmith"),
                                           c, "sales", std::chrono::system_clock::now());
  BOOST_TEST_REQUIRE(answer.status == 200u);
  tinyxml2::XMLDocument doc;
  BOOST_TEST_REQUIRE(doc.Parse(answer.body.c_str()) == tinyxml2::XML_SUCCESS);
  std::map<std::string, std::string> params;
  for (auto* p = doc.FirstChildElement("Response")->FirstChildElement("Connect")->FirstChildElement("Stream")->FirstChildElement("Parameter");
       p; p = p->NextSiblingElement("Parameter"))
    params[p->Attribute("name")] = p->Attribute("value");
  BOOST_TEST(params["from"] == "Bob\t\r\nSmith");
}

BOOST_AUTO_TEST_SUITE_END()
