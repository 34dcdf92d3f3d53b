// The operator console in a real browser (tests/browser/console.mjs: Debian's Chromium driven headless by
// puppeteer-core) against the real binary, with its console on the admin listener: sign-in, a finished call
// whose transcript holds a <script> tag and whose recording plays to its end, a live call that appears and is
// ended from the page, and a campaign paused from it. Each page's screenshot is written to
// <build>/console-screenshots/ for a person to look at (docs/ keeps two of them for the README).
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "fake-elevenlabs/fake_agent.hpp"
#include "fake-twilio-api/fake_twilio_api.hpp"
#include "service/gateway_process.hpp"
#include "service/service_fixture.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

const std::string console_token = "console-browser-admin-token-0123";

std::filesystem::path source_root() {
  const char* root = std::getenv("VOICEBRIDGE_SOURCE_ROOT");
  BOOST_TEST_REQUIRE(root != nullptr, "VOICEBRIDGE_SOURCE_ROOT is not set (meson sets it)");
  return root;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(console_browser)

BOOST_AUTO_TEST_CASE(a_browser_signs_in_plays_a_recording_ends_a_live_call_and_pauses_a_campaign) {
  const auto script_path = source_root() / "tests/browser/console.mjs";
  BOOST_TEST_REQUIRE(std::filesystem::exists(source_root() / "tests/browser/node_modules/puppeteer-core"),
                     "puppeteer-core is not installed: run tools/setup/install-deps");
  BOOST_TEST_REQUIRE(std::filesystem::exists("/usr/bin/chromium"), "chromium is not installed: run tools/setup/install-deps");

  client_loop client;
  const std::string account = "AC" + std::string(32, '7');
  std::unique_ptr<fake::fake_agent_server> agent;
  std::unique_ptr<fake::fake_twilio_api> twilio;
  client.on_loop([&] {
    fake::agent_script talking;
    talking.transcripts = true;
    talking.user_transcript = "<script>alert('xss')</script> I would like a table for two";
    agent = std::make_unique<fake::fake_agent_server>(client.io, talking);
    twilio = std::make_unique<fake::fake_twilio_api>(client.io, fake::twilio_api_settings{account, auth_token, "", "", 10});
    fake::callee_script slow;  // rings a minute: the campaign is still running when the browser pauses it
    slow.ring = 60s;
    twilio->phones().script_others(slow);
  });
  gateway_process gw(service_env({{"ADMIN_TOKEN", console_token},
                                  {"RECORD_CALLS", "1"},
                                  {"METRICS_ADDRESS", "127.0.0.1:0"},
                                  {"ELEVENLABS_AGENT_ID", "agent_console"},
                                  {"ELEVENLABS_BASE_URL", "http://127.0.0.1:" + std::to_string(agent->port())},
                                  {"TWILIO_ACCOUNT_SID", account},
                                  {"TWILIO_API_BASE", "http://127.0.0.1:" + std::to_string(twilio->port())}}));
  const auto port = gw.port();
  BOOST_TEST_REQUIRE(gw.wait_for_log("metrics listening"));
  const auto admin_port = static_cast<std::uint16_t>(gw.log_value("info metrics listening ", "port").value_or(0));
  BOOST_TEST_REQUIRE(admin_port != 0);
  client.on_loop([&] { twilio->dial_to(port); });

  // A finished call, recorded, whose caller "said" a <script> tag.
  auto finished = caller(port, speech(60, 5));
  const auto first = client.get(sim::run_call(finished));
  BOOST_TEST_REQUIRE(first.error == "");
  // A campaign that stays running: one number rings while the others wait their turn.
  const auto created = client.get(http_call(
      port, http::verb::post, "/api/campaigns",
      R"({"name":"December reminders","from":"+15550001001","max_concurrent":1,"calls_per_second":1,"rows":[{"to":"+15557601001"},{"to":"+15557601002"},{"to":"+15557601003"}]})",
      {{"Authorization", "Bearer " + console_token}, {"Content-Type", "application/json"}}));
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  const std::string campaign(boost::json::parse(created.body).as_object().at("id").as_string());
  // The call's record is stored once its stream has ended.
  for (int i = 0; i < 100; ++i) {
    if (client.get(http_call(port, http::verb::get, "/api/calls/" + first.call_sid, {},
                             {{"Authorization", "Bearer " + console_token}})).status == 200)
      break;
    std::this_thread::sleep_for(100ms);
  }

  const auto markers = make_temp_dir();
  const auto screenshots = std::filesystem::path(std::getenv("VOICEBRIDGE_BIN")).parent_path() / "console-screenshots";
  gateway_process browser({{"CONSOLE_URL", "http://127.0.0.1:" + std::to_string(admin_port)},
                           {"ADMIN_TOKEN", console_token},
                           {"CALL_SID", first.call_sid},
                           {"CAMPAIGN_ID", campaign},
                           {"MARKER_DIR", markers.string()},
                           {"SCREENSHOT_DIR", screenshots.string()},
                           {"TZ", "America/New_York"}},
                          {}, "node", {script_path.string()});
  // Once the live page is open, a call comes in (30 s of caller audio: ended from the page long before).
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (!std::filesystem::exists(markers / "live-open") && !browser.wait_exit(0ms) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  std::optional<std::future<sim::call_summary>> live;
  if (std::filesystem::exists(markers / "live-open")) {
    auto o = caller(port, speech(1500, 7));
    o.linger = 5s;
    live = client.spawn(sim::run_call(o));
  }
  const auto status = browser.wait_exit(150s);
  BOOST_TEST((status == std::optional<int>(0)), "the browser run:\n" << browser.log());
  BOOST_TEST_MESSAGE("browser: " << browser.log());
  BOOST_TEST_REQUIRE(live.has_value(), "the live page never opened:\n" << browser.log());
  const auto ended = ready(*live, 60s);
  BOOST_TEST(ended.error == "");
  const auto paused = client.get(http_call(port, http::verb::get, "/api/campaigns/" + campaign, {},
                                           {{"Authorization", "Bearer " + console_token}}));
  BOOST_TEST(boost::json::parse(paused.body).as_object().at("state").as_string() == "paused");
  BOOST_TEST(gw.wait_for_log("console: call ended by the operator"));
  BOOST_TEST(gw.log().find(console_token) == std::string::npos);  // never in a log line
  remove_temp_dir(markers);
}

BOOST_AUTO_TEST_SUITE_END()
