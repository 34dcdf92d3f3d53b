// Outbound calls, first part: the gateway's Calls.json request against the Twilio stand-in over a real
// socket: created (201 and a call SID), refused with Twilio's code (bad numbers, wrong credentials), and
// held to the account's calls per second.
#include <boost/asio.hpp>
#include <boost/test/unit_test.hpp>

#include "fake-twilio-api/fake_twilio_api.hpp"
#include "twilio/rest_client.hpp"

using namespace voicebridge;
namespace asio = boost::asio;

namespace {

const std::string account_sid = "AC" + std::string(32, '4');
const std::string auth_token = "outbound-test-auth-token";

twilio::call_creation reminder(std::string to = "+15557654321") {
  twilio::call_creation c;
  c.to = std::move(to);
  c.from = "+15550001001";
  c.twiml_url = "https://gw.example.test/api/twilio/voice/outbound?route=reminders";
  c.status_callback = "https://gw.example.test/api/twilio/voice/status";
  c.machine_detection = true;
  c.amd_callback = "https://gw.example.test/api/twilio/voice/amd";
  return c;
}

struct api_fixture {
  asio::io_context io;
  fake::fake_twilio_api api;
  explicit api_fixture(unsigned calls_per_second = 1) : api(io, {account_sid, auth_token, "", "", calls_per_second}) {}

  twilio::rest_settings settings(std::string token = auth_token) {
    return {"http://127.0.0.1:" + std::to_string(api.port()), account_sid, std::move(token), nullptr};
  }
  std::vector<twilio::created_call> create(std::vector<twilio::call_creation> calls, twilio::rest_settings rest) {
    std::vector<twilio::created_call> out(calls.size());
    std::size_t done = 0;
    for (std::size_t i = 0; i < calls.size(); ++i)
      asio::co_spawn(io, twilio::create_call(rest, calls[i]), [&, i](std::exception_ptr e, twilio::created_call c) {
        if (e) std::rethrow_exception(e);
        out[i] = std::move(c);
        ++done;
      });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (done < calls.size() && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(100));
    BOOST_REQUIRE(done == calls.size());
    return out;
  }
};

std::string field(const fake::call_creation_request& r, std::string_view name) {
  for (const auto& [k, v] : r.form)
    if (k == name) return v;
  return "(absent)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbound_creation)

BOOST_AUTO_TEST_CASE(a_valid_request_creates_the_call_with_async_amd_and_every_status_event) {
  api_fixture f;
  const auto created = f.create({reminder()}, f.settings());
  BOOST_TEST_REQUIRE(created[0].ok(), created[0].message);
  BOOST_TEST(created[0].call_sid.starts_with("CA"));
  BOOST_TEST_REQUIRE(f.api.creations().size() == 1u);
  const auto& sent = f.api.creations()[0];
  BOOST_TEST(sent.call_sid == created[0].call_sid);
  BOOST_TEST(field(sent, "To") == "+15557654321");
  BOOST_TEST(field(sent, "Url") == reminder().twiml_url);
  BOOST_TEST(field(sent, "MachineDetection") == "DetectMessageEnd");
  BOOST_TEST(field(sent, "AsyncAmd") == "true");
  BOOST_TEST(field(sent, "AsyncAmdStatusCallback") == reminder().amd_callback);
}

BOOST_AUTO_TEST_CASE(twilios_refusals_come_back_with_its_code_never_as_success) {
  api_fixture f(10);
  auto no_callback = reminder();
  no_callback.amd_callback.clear();
  const auto answers = f.create({reminder("+1555"), no_callback}, f.settings());
  BOOST_TEST(!answers[0].ok());
  BOOST_TEST(answers[0].status == 400u);
  BOOST_TEST(answers[0].twilio_code == 21211);
  BOOST_TEST(answers[0].message.find("not a valid phone number") != std::string::npos);
  BOOST_TEST(answers[1].twilio_code == 21262);
  const auto wrong_token = f.create({reminder()}, f.settings("not-the-token"));
  BOOST_TEST(wrong_token[0].status == 401u);
  BOOST_TEST(wrong_token[0].twilio_code == 20003);
  BOOST_TEST(wrong_token[0].message.find("not-the-token") == std::string::npos);
  // Nobody listening: no answer, said so.
  auto closed = f.settings();
  closed.api_base = "http://127.0.0.1:1";
  const auto unreachable = f.create({reminder()}, closed);
  BOOST_TEST(unreachable[0].status == 0u);
  BOOST_TEST(!unreachable[0].message.empty());
}

BOOST_AUTO_TEST_CASE(beyond_the_accounts_calls_per_second_twilio_answers_20429) {
  api_fixture f(2);
  const auto answers = f.create({reminder(), reminder(), reminder()}, f.settings());
  int created = 0, limited = 0;
  for (const auto& a : answers) {
    if (a.ok()) ++created;
    if (a.status == 429u && a.twilio_code == 20429) ++limited;
  }
  BOOST_TEST(created == 2);
  BOOST_TEST(limited == 1);
}

BOOST_AUTO_TEST_SUITE_END()
