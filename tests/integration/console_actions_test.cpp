// The console's buttons that act through the API, over real sockets: a parked post-call webhook retried from
// the Webhooks page and delivered; a campaign paused, resumed and cancelled from the Campaigns page (and a
// refused change shown as a page, not an error); a live call transferred from the Live page (Twilio's REST
// stand-in gets the <Dial>); the Routes page with a route's hours.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "console_client.hpp"
#include "outbound_fixture.hpp"
#include "twilio-sim/simulator.hpp"
#include "webhook_fixture.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::string campaign_state(outbound_gateway& f, const std::string& id) {
  const auto r = api_get(f.gw, "/api/campaigns/" + id);
  return std::string(boost::json::parse(r.body).as_object().at("state").as_string());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(console_actions)

BOOST_AUTO_TEST_CASE(a_parked_webhook_is_listed_and_its_retry_button_delivers_it) {
  fake::receiver_script gone;
  gone.statuses = {410};  // refused: parked at once
  webhook_gateway f(gone, [](app::config& c, const std::string& url) {
    c.postcall_webhook_url = url;
    c.postcall_status_wait = 100ms;
  });
  auto s = f.gw.run(sim::run_call(f.gw.caller(speech(8, 44))));
  f.gw.settle();
  browser b{f.gw, f.gw.port, {}, {}};
  b.sign_in();
  console_response page;
  f.gw.run_until([&] {
    page = b.get("/console/webhooks");
    return contains(page.body(), s.call_sid);
  });
  std::smatch m;
  const std::string html = page.body();
  BOOST_TEST_REQUIRE(std::regex_search(html, m, std::regex("action=\"/console/webhooks/(WH[0-9a-f]{32})/retry\"")));
  const std::string id = m[1];
  f.receiver->script().statuses = {410, 200};  // the receiver is fixed: its next answer is 200
  auto retried = b.post("/console/webhooks/" + id + "/retry", "");
  BOOST_TEST(retried.result_int() == 303u);
  BOOST_TEST(retried[http::field::location] == "/console/webhooks");
  f.gw.run_until([&] { return !f.received().accepted.empty(); });
  BOOST_TEST(f.received().accepted.at(id) == 1);
  BOOST_TEST(contains(b.get("/console/webhooks").body(), "No webhook has failed."));
  // Delivered: a second retry is refused, and the page says why.
  auto again = b.post("/console/webhooks/" + id + "/retry", "");
  BOOST_TEST(again.result_int() == 409u);
  BOOST_TEST(contains(again.body(), "Not done"));
}

BOOST_AUTO_TEST_CASE(a_campaign_is_paused_resumed_and_cancelled_from_its_page) {
  outbound_gateway f;
  fake::callee_script slow;
  slow.ring = 30s;
  f.phones().script_others(slow);
  const auto created = f.gw.run(http_call(
      f.gw.port, http::verb::post, "/api/campaigns",
      R"({"name":"Renewals <b>","from":"+15550001001","max_concurrent":1,"rows":[{"to":"+15557602001"},{"to":"+15557602002"}]})",
      {{"Authorization", "Bearer " + test_admin_token}, {"Content-Type", "application/json"}}));
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  const std::string id(boost::json::parse(created.body).as_object().at("id").as_string());
  browser b{f.gw, f.gw.port, {}, {}};
  b.sign_in();
  auto page = b.get("/console/campaigns");
  BOOST_TEST(contains(page.body(), "Renewals &lt;b&gt;"));
  BOOST_TEST(contains(page.body(), "action=\"/console/campaigns/" + id + "/pause\""));
  BOOST_TEST(b.post("/console/campaigns/" + id + "/pause", "").result_int() == 303u);
  BOOST_TEST(campaign_state(f, id) == "paused");
  BOOST_TEST(contains(b.get("/console/campaigns").body(), "action=\"/console/campaigns/" + id + "/resume\""));
  BOOST_TEST(b.post("/console/campaigns/" + id + "/resume", "").result_int() == 303u);
  BOOST_TEST(campaign_state(f, id) == "running");
  BOOST_TEST(b.post("/console/campaigns/" + id + "/cancel", "").result_int() == 303u);
  BOOST_TEST(campaign_state(f, id) == "cancelled");
  const auto ended = b.post("/console/campaigns/" + id + "/pause", "");
  BOOST_TEST(ended.result_int() == 409u);
  BOOST_TEST(contains(ended.body(), "the campaign has ended"));
  BOOST_TEST(b.post("/console/campaigns/CP" + std::string(32, '0') + "/pause", "").result_int() == 404u);
  BOOST_TEST(!contains(b.get("/console/campaigns").body(), "/pause\""));  // no button for an ended campaign
}

BOOST_AUTO_TEST_CASE(a_live_call_is_transferred_from_its_page_over_twilios_rest_api) {
  outbound_gateway f;
  browser b{f.gw, f.gw.port, {}, {}};
  b.sign_in();
  auto o = f.gw.caller(speech(1500, 9));  // 30 s: transferred, then ended, long before
  bool done = false;
  asio::co_spawn(f.gw.io, sim::run_call(o), [&](std::exception_ptr e, sim::call_summary) {
    if (e) std::rethrow_exception(e);
    done = true;
  });
  f.gw.run_until([&] { return f.gw.server->active_calls() == 1; });
  std::smatch m;
  const std::string page = b.get("/console/live").body();
  BOOST_TEST_REQUIRE(std::regex_search(page, m, std::regex("data-call=\"(CA[0-9a-f]{32})\"")));
  const std::string call_sid = m[1];
  auto moved = b.post("/console/live/" + call_sid + "/transfer", "number=%2B15550003333");
  BOOST_TEST(moved.result_int() == 303u);
  f.gw.run_until([&] { return !f.gw.twilio_api->updates().empty(); });
  const auto& update = f.gw.twilio_api->updates().front();
  BOOST_TEST(update.call_sid == call_sid);
  BOOST_TEST(update.twiml.find("<Dial>+15550003333</Dial>") != std::string::npos, update.twiml);
  // Twilio would now end the stream with `stop`; the stand-in does not, so the operator ends it.
  BOOST_TEST(b.post("/console/live/" + call_sid + "/end", "").result_int() == 303u);
  f.gw.run_until([&] { return done; });
  f.gw.settle();
  BOOST_TEST_REQUIRE(f.gw.server->flush_records(10s));
  const auto record = call_record(f.gw, call_sid);
  BOOST_TEST(record.at("transferred_to").as_string() == "+15550003333");
  BOOST_TEST(record.at("outcome").as_string() == "transferred");
}

BOOST_AUTO_TEST_CASE(an_outbound_calls_page_shows_the_variables_it_was_placed_with) {
  outbound_gateway f;
  const auto placed = f.place(R"({"to":"+15557603001","from":"+15550001001","dynamic_variables":{"first_name":"<b>Ada</b>","visit":"Tuesday"}})");
  BOOST_TEST_REQUIRE(placed.status == 201u, placed.body);
  const auto call_sid = call_sid_of(placed);
  f.wait_dialled(1);
  BOOST_TEST_REQUIRE(f.gw.server->flush_records(10s));
  browser b{f.gw, f.gw.port, {}, {}};
  b.sign_in();
  const auto page = b.get("/console/calls/" + call_sid);
  BOOST_TEST(page.result_int() == 200u);
  BOOST_TEST(contains(page.body(), "<dt>first_name</dt><dd>&lt;b&gt;Ada&lt;/b&gt;</dd>"));
  BOOST_TEST(contains(page.body(), "<dt>visit</dt><dd>Tuesday</dd>"));
  BOOST_TEST(contains(b.get("/console/calls?direction=outbound").body(), call_sid));
}

BOOST_AUTO_TEST_CASE(the_routes_page_shows_each_routes_hours_and_whether_it_is_open_now) {
  auto c = console_config();
  const auto dir = make_temp_dir();
  const auto file = dir / "routes.toml";
  std::ofstream(file) << R"([[route]]
name = "night_desk"
numbers = ["+15550000001"]
hours = "Mon-Sun 00:00-00:01"
timezone = "Pacific/Kiritimati"
after_hours = "voicemail"

[[route]]
name = "front_desk"
numbers = ["*"]
)";
  c.routes_file = file;
  gateway gw(c);
  browser b{gw, gw.port, {}, {}};
  b.sign_in();
  const auto page = b.get("/console/routes");
  BOOST_TEST(page.result_int() == 200u);
  BOOST_TEST(contains(page.body(), "Mon-Sun 00:00-00:01 (Pacific/Kiritimati); after hours: voicemail"));
  BOOST_TEST(contains(page.body(), "every other number"));
  BOOST_TEST(contains(page.body(), "always open"));
  BOOST_TEST(contains(page.body(), "href=\"/console/calls?route=night_desk\""));
  // Open one minute a day: closed now, unless this runs in that minute.
  BOOST_TEST((contains(page.body(), "class=\"hours-closed\">closed") || contains(page.body(), "class=\"hours-open\">open")));
  remove_temp_dir(dir);
}

BOOST_AUTO_TEST_SUITE_END()
