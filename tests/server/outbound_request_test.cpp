// POST /api/calls bodies: the call to place, or one line naming the field at fault.
#include <boost/test/unit_test.hpp>

#include "server/outbound_request.hpp"

using namespace voicebridge;
using namespace voicebridge::server;

namespace {

route_table two_routes() {
  app::config base;
  base.max_calls = 10;
  auto table = route_table::parse(R"([[route]]
name = "reminders"
numbers = ["+15550001001"]
caller_id = "+15550001001"

[[route]]
name = "front-desk"
numbers = ["*"]
)", base, [](const std::string&) { return std::optional<std::string>(); });
  BOOST_REQUIRE_MESSAGE(table.has_value(), (table.has_value() ? std::string() : table.error().message));
  return *table;
}

std::string error_of(std::string_view body) {
  const auto r = parse_outbound_request(body, two_routes());
  return r.has_value() ? std::string("(accepted)") : r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbound_requests)

BOOST_AUTO_TEST_CASE(a_complete_request_is_taken_with_the_routes_caller_id_by_default) {
  const auto r = parse_outbound_request(
      R"({"to":"+15557654321","route":"reminders","machine_detection":true,
          "dynamic_variables":{"name":"Ada","visits":3,"vip":true,"balance":12.5}})",
      two_routes());
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->to == "+15557654321");
  BOOST_TEST(r->from == "+15550001001");  // the route's caller_id
  BOOST_TEST(r->route == "reminders");
  BOOST_TEST(r->machine_detection);
  BOOST_REQUIRE(r->dynamic_variables.size() == 4u);
  BOOST_TEST(r->dynamic_variables[0].first == "name");
  BOOST_TEST(r->dynamic_variables[0].second == "Ada");
  BOOST_TEST(r->dynamic_variables[1].second == "3");
  BOOST_TEST(r->dynamic_variables[2].second == "true");
  BOOST_TEST(r->dynamic_variables[3].second == "12.5");
  const auto explicit_from = parse_outbound_request(R"({"to":"+15557654321","from":"+15550009999"})", two_routes());
  BOOST_REQUIRE(explicit_from.has_value());
  BOOST_TEST(explicit_from->from == "+15550009999");
  BOOST_TEST(explicit_from->route == "front-desk");  // no route named: the catch-all
  BOOST_TEST(!explicit_from->machine_detection);
}

BOOST_AUTO_TEST_CASE(every_field_is_checked_and_named) {
  BOOST_TEST(error_of("not json").find("body: expected a JSON object") == 0u);
  BOOST_TEST(error_of(R"([1,2])").find("body: expected a JSON object") == 0u);
  BOOST_TEST(error_of(R"({"route":"reminders"})").find("to") != std::string::npos);
  BOOST_TEST(error_of(R"({"to":"5551234"})") == "to: expected an E.164 number (+15551234567)");
  BOOST_TEST(error_of(R"({"to":"+15557654321","from":"x"})") == "from: expected an E.164 number (+15551234567)");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"nope"})") == "route: no route is named 'nope'");
  BOOST_TEST(error_of(R"({"to":"+15557654321"})") == "from: required (route front-desk has no caller_id)");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","machine_detection":"yes"})") ==
             "machine_detection: expected true or false");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","toh":1})") == "unknown field toh");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":[1]})") ==
             "dynamic_variables: expected an object");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":{"a":{"b":1}}})") ==
             "dynamic_variables: a: expected a string, a number or a boolean");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":{"a b":1}})") ==
             "dynamic_variables: 'a b' is not a name (letters, digits, _)");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":{"caller_number":"+1"}})") ==
             "dynamic_variables: caller_number is set by the gateway");
  const std::string long_value(max_variable_chars, 'x');  // with its one-letter name: one byte over
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":{"a":")" + long_value + "\"}}") ==
             "dynamic_variables: a: name and value together at most 499 bytes (a Twilio <Parameter>)");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":{"a":")" + long_value.substr(1) + "\"}}") == "(accepted)");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":{"a":"bell\u0007"}})") ==
             "dynamic_variables: a: holds a control character");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":{"to":"+1"}})") ==
             "dynamic_variables: to is set by the gateway");
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":{"machine_detection":"false"}})") ==
             "dynamic_variables: machine_detection is set by the gateway");  // it would open the AMD gate
  BOOST_TEST(error_of(R"({"to":"+15557654321","route":"reminders","dynamic_variables":{"campaign":"x"}})") ==
             "dynamic_variables: campaign is set by the gateway");  // a campaign's calls carry their campaign's id
  std::string many = R"({"to":"+15557654321","route":"reminders","dynamic_variables":{)";
  for (std::size_t i = 0; i <= max_outbound_variables; ++i) many += (i ? "," : "") + std::string("\"v") + std::to_string(i) + "\":1";
  BOOST_TEST(error_of(many + "}}") == "dynamic_variables: at most 50 variables");
}

BOOST_AUTO_TEST_SUITE_END()
