// POST /api/campaigns bodies, JSON or CSV: the campaign to store, or every bad row named by its line.
#include <boost/test/unit_test.hpp>

#include "server/campaign_request.hpp"

using namespace voicebridge;
using namespace voicebridge::server;

namespace {

route_table reminders_route() {
  app::config base;
  base.max_calls = 10;
  auto table = route_table::parse(R"([[route]]
name = "reminders"
numbers = ["*"]
caller_id = "+15550001001"
)", base, [](const std::string&) { return std::optional<std::string>(); });
  BOOST_REQUIRE_MESSAGE(table.has_value(), (table.has_value() ? std::string() : table.error().message));
  return *table;
}

campaign_limits limits() {
  campaign_limits l;
  l.max_concurrent = 10;
  l.max_rows = 5;
  return l;
}

std::string json_error(std::string_view body) {
  const auto r = parse_campaign_json(body, reminders_route(), limits());
  return r.has_value() ? std::string("(accepted)") : r.error().message;
}

twilio::form_params query(std::string_view text) { return *twilio::parse_form(text); }

std::string csv_error(std::string_view csv, std::string_view settings = "route=reminders") {
  const auto r = parse_campaign_csv(csv, query(settings), reminders_route(), limits());
  return r.has_value() ? std::string("(accepted)") : r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(campaign_requests)

BOOST_AUTO_TEST_CASE(a_json_campaign_with_every_setting) {
  const auto c = parse_campaign_json(R"({"name":"December reminders","route":"reminders","max_concurrent":5,
    "calls_per_second":2.5,"machine_detection":true,"retry":{"busy":2,"no_answer":1,"backoff_s":60},
    "window":{"hours":"Mon-Fri 09:00-18:00","timezone":"America/New_York"},
    "rows":[{"to":"+15557650001","first_name":"Ada","visits":3},{"to":"+15557650002","timezone":"Europe/Berlin"}]})",
                                     reminders_route(), limits());
  BOOST_TEST_REQUIRE(c.has_value(), c.error().message);
  BOOST_TEST(c->name == "December reminders");
  BOOST_TEST(c->from == "+15550001001");  // the route's caller_id
  BOOST_TEST(c->max_concurrent == 5u);
  BOOST_TEST(c->calls_per_second == 2.5);
  BOOST_TEST(c->machine_detection);
  BOOST_TEST(c->retry.busy == 2u);
  BOOST_TEST(c->retry.no_answer == 1u);
  BOOST_TEST(c->retry.failed == 0u);
  BOOST_TEST(c->retry.backoff.count() == 60);
  BOOST_TEST(c->window_timezone == "America/New_York");
  BOOST_TEST(!c->window.is_always());
  BOOST_TEST_REQUIRE(c->rows.size() == 2u);
  BOOST_TEST(c->rows[0].line == 1u);
  BOOST_TEST((c->rows[0].variables == std::vector<std::pair<std::string, std::string>>{{"first_name", "Ada"}, {"visits", "3"}}));
  BOOST_TEST(c->rows[1].timezone == "Europe/Berlin");
}

BOOST_AUTO_TEST_CASE(json_settings_are_checked_and_named) {
  const std::string rows = R"("rows":[{"to":"+15557650001"}])";
  BOOST_TEST(json_error("[]").starts_with("body: expected a JSON object"));
  BOOST_TEST(json_error(R"({"route":"nope",)" + rows + "}") == "route: no route is named 'nope'");
  BOOST_TEST(json_error(R"({"max_concurrent":0,)" + rows + "}") == "max_concurrent: expected an integer from 1 to 10");
  BOOST_TEST(json_error(R"({"max_concurrent":11,)" + rows + "}") == "max_concurrent: expected an integer from 1 to 10");
  BOOST_TEST(json_error(R"({"calls_per_second":0,)" + rows + "}").starts_with("calls_per_second: expected a number above 0"));
  BOOST_TEST(json_error(R"({"retry":{"busy":-1},)" + rows + "}") == "busy: expected an integer from 0 to 10");
  BOOST_TEST(json_error(R"({"retry":{"busi":1},)" + rows + "}").starts_with("retry: unknown field busi"));
  BOOST_TEST(json_error(R"({"window":{"hours":"Mon-Fri 09:00-18:00"},)" + rows + "}").starts_with("window: expected {"));
  BOOST_TEST(json_error(R"({"window":{"hours":"Mon-Fri 09:00-18:00","timezone":"Mars/Base"},)" + rows + "}") ==
             "window: timezone: Mars/Base is not in the tz database");
  BOOST_TEST(json_error(R"({"window":{"hours":"someday","timezone":"UTC"},)" + rows + "}").starts_with("window: hours: "));
  BOOST_TEST(json_error(R"({"rowz":[]})") == "unknown field rowz");
  BOOST_TEST(json_error(R"({"rows":[]})") == "rows: no numbers to call");
  BOOST_TEST(json_error(R"({"rows":{}})").starts_with("rows: expected a list"));
}

BOOST_AUTO_TEST_CASE(every_bad_json_row_is_named_by_its_index) {
  const auto error = json_error(R"({"rows":[{"to":"+15557650001"},{"to":"555"},7,{"to":"+15557650001"},
    {"to":"+15557650003","timezone":"Nowhere/City"},{"to":"+15557650004","call_sid":"x"}]})");
  BOOST_TEST(error == "rows: at most 5 per campaign");  // six rows: the bound is checked before the rows
  const auto bad = json_error(R"({"rows":[{"to":"+15557650001"},{"to":"555"},7,{"to":"+15557650001"},
    {"to":"+15557650003","timezone":"Nowhere/City"}]})");
  BOOST_TEST(bad == "rows item 2: to: expected an E.164 number (+15551234567), got '555'\n"
                    "rows item 3: expected an object\n"
                    "rows item 4: to: +15557650001 is listed twice\n"
                    "rows item 5: timezone: Nowhere/City is not in the tz database");
  BOOST_TEST(json_error(R"({"rows":[{"to":"+15557650001","call_sid":"x"}]})") == "rows item 1: call_sid is set by the gateway");
  BOOST_TEST(json_error(R"({"rows":[{"to":"+15557650001","a":{"b":1}}]})") ==
             "rows item 1: a: expected a string, a number or a boolean");
}

BOOST_AUTO_TEST_CASE(a_csv_upload_takes_its_settings_from_the_query) {
  const auto c = parse_campaign_csv("to,first_name,timezone\r\n+15557650001,Ada,Europe/Berlin\r\n+15557650002,,\r\n",
                                    query("route=reminders&max_concurrent=3&calls_per_second=0.5&retry_busy=2&"
                                          "backoff_s=30&window_hours=Mon-Sun+08:00-20:00&timezone=UTC&machine_detection=true"),
                                    reminders_route(), limits());
  BOOST_TEST_REQUIRE(c.has_value(), c.error().message);
  BOOST_TEST(c->max_concurrent == 3u);
  BOOST_TEST(c->calls_per_second == 0.5);
  BOOST_TEST(c->retry.busy == 2u);
  BOOST_TEST(c->retry.backoff.count() == 30);
  BOOST_TEST(c->window_timezone == "UTC");
  BOOST_TEST(c->machine_detection);
  BOOST_TEST_REQUIRE(c->rows.size() == 2u);
  BOOST_TEST(c->rows[0].line == 2u);
  BOOST_TEST(c->rows[0].timezone == "Europe/Berlin");
  BOOST_TEST((c->rows[0].variables == std::vector<std::pair<std::string, std::string>>{{"first_name", "Ada"}}));
  BOOST_TEST(c->rows[1].variables.empty());  // an empty cell is no variable
}

BOOST_AUTO_TEST_CASE(every_bad_csv_row_is_named_by_its_line) {
  BOOST_TEST(csv_error("") == "csv: empty (expected a header row naming to, then one row per number)");
  BOOST_TEST(csv_error("number,name\n+15557650001,Ada\n") == "csv: line 1: no column named to");
  BOOST_TEST(csv_error("to,to\n") == "csv: line 1: column to is named twice");
  BOOST_TEST(csv_error("\nto,to\n") == "csv: line 2: column to is named twice");  // the header's own line
  BOOST_TEST(csv_error("to,first name\n") == "csv: line 1: column 'first name' is not a name (letters, digits, _)");
  BOOST_TEST(csv_error("to,direction\n") == "csv: line 1: column direction is set by the gateway");
  BOOST_TEST(csv_error("to,note\n+15557650001,\"open") == "csv: line 2: a quoted field is never closed");
  BOOST_TEST(csv_error("to,note\n+15557650001,ok\n\n5551234,x\n+15557650002\n+15557650001,again\n") ==
             "csv: line 4: to: expected an E.164 number (+15551234567), got '5551234'\n"
             "csv: line 5: 1 fields, the header has 2\n"
             "csv: line 6: to: +15557650001 is listed twice");
  BOOST_TEST(csv_error("to\n+15557650001\n", "route=reminders&max_concurrent=many") ==
             "max_concurrent: expected an integer from 1 to 10");
  BOOST_TEST(csv_error("to\n+15557650001\n", "route=reminders&colour=red") == "unknown field colour");
  BOOST_TEST(csv_error("to\n+15557650001\n", "route=reminders&machine_detection=yes") ==
             "machine_detection: expected true or false");
  BOOST_TEST(csv_error("to\n+15557650001\n") == "(accepted)");
}

BOOST_AUTO_TEST_CASE(past_twenty_bad_rows_the_rest_are_counted) {
  campaign_limits many = limits();
  many.max_rows = 1000;
  std::string csv = "to\n";
  for (int i = 0; i < 30; ++i) csv += "bad" + std::to_string(i) + "\n";
  const auto r = parse_campaign_csv(csv, query("route=reminders"), reminders_route(), many);
  BOOST_TEST_REQUIRE(!r.has_value());
  const auto& text = r.error().message;
  BOOST_TEST(std::count(text.begin(), text.end(), '\n') == 20);  // 20 named, and the line counting the rest
  BOOST_TEST(text.ends_with("… and 10 more bad rows"));
}

BOOST_AUTO_TEST_SUITE_END()
