// The Calls.json form an outbound call is created with, and Twilio's answers to it.
#include <boost/test/unit_test.hpp>

#include "twilio/call_creation.hpp"

using namespace voicebridge::twilio;

namespace {

std::vector<std::string> all(const form_params& form, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& p : form.all())
    if (p.name == name) out.push_back(p.value);
  return out;
}

call_creation reminder() {
  call_creation c;
  c.to = "+15557654321";
  c.from = "+15550001001";
  c.twiml_url = "https://gw.example.com/api/twilio/voice/outbound?route=reminders";
  c.status_callback = "https://gw.example.com/api/twilio/voice/status";
  c.ring_timeout = std::chrono::seconds(25);
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbound_call_form)

BOOST_AUTO_TEST_CASE(the_form_asks_for_every_status_event_and_async_amd_only_when_wanted) {
  const auto plain = call_creation_form(reminder());
  BOOST_TEST(plain.get_or("To", "") == "+15557654321");
  BOOST_TEST(plain.get_or("From", "") == "+15550001001");
  BOOST_TEST(plain.get_or("Url", "") == reminder().twiml_url);
  BOOST_TEST(plain.get_or("Method", "") == "POST");
  BOOST_TEST(plain.get_or("Timeout", "") == "25");
  BOOST_TEST(plain.get_or("StatusCallbackMethod", "") == "POST");
  BOOST_TEST((all(plain, "StatusCallbackEvent") == std::vector<std::string>{"initiated", "ringing", "answered", "completed"}));
  BOOST_TEST(!plain.get("MachineDetection").has_value());
  BOOST_TEST(!plain.get("AsyncAmd").has_value());

  auto with_amd = reminder();
  with_amd.machine_detection = true;
  with_amd.amd_callback = "https://gw.example.com/api/twilio/voice/amd";
  const auto amd = call_creation_form(with_amd);
  BOOST_TEST(amd.get_or("MachineDetection", "") == "DetectMessageEnd");
  BOOST_TEST(amd.get_or("AsyncAmd", "") == "true");
  BOOST_TEST(amd.get_or("AsyncAmdStatusCallback", "") == with_amd.amd_callback);
  BOOST_TEST(amd.get_or("AsyncAmdStatusCallbackMethod", "") == "POST");
}

BOOST_AUTO_TEST_CASE(only_a_201_with_a_call_sid_is_a_created_call) {
  const auto created = read_call_creation_answer(201, R"({"sid":"CA0123456789abcdef0123456789abcdef","status":"queued"})");
  BOOST_TEST(created.ok());
  BOOST_TEST(created.call_sid == "CA0123456789abcdef0123456789abcdef");

  const auto refused = read_call_creation_answer(
      400, R"({"code":21211,"message":"The 'To' number +1555 is not a valid phone number.","status":400})");
  BOOST_TEST(!refused.ok());
  BOOST_TEST(refused.twilio_code == 21211);
  BOOST_TEST(refused.message.find("is not a valid phone number") != std::string::npos);

  BOOST_TEST(!read_call_creation_answer(201, R"({"status":"queued"})").ok());  // no SID: never success
  BOOST_TEST(!read_call_creation_answer(201, R"({"sid":"not-a-sid"})").ok());
  const auto html = read_call_creation_answer(502, "<html>bad gateway</html>");
  BOOST_TEST(!html.ok());
  BOOST_TEST(html.message == "Twilio answered HTTP 502 without a JSON resource");
  BOOST_TEST(read_call_creation_answer(429, R"({"code":20429,"message":"Too Many Requests"})").twilio_code == 20429);
}

BOOST_AUTO_TEST_SUITE_END()
