// The CSV reader on what spreadsheets write: quotes, commas and line breaks in fields, CRLF, a byte-order
// mark, blank lines, and the line each record starts on; what cannot be CSV is named by its line.
#include <boost/test/unit_test.hpp>

#include "util/csv.hpp"

using voicebridge::util::parse_csv;

BOOST_AUTO_TEST_SUITE(csv)

BOOST_AUTO_TEST_CASE(plain_records_and_their_lines) {
  const auto r = parse_csv("to,first_name\n+15550001111,Ada\n\n+15550002222,Grace\n");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST_REQUIRE(r->size() == 3u);
  BOOST_TEST(((*r)[0].fields == std::vector<std::string>{"to", "first_name"}));
  BOOST_TEST((*r)[1].line == 2u);
  BOOST_TEST((*r)[2].line == 4u);  // the blank line is skipped, and counted
  BOOST_TEST((*r)[2].fields[1] == "Grace");
}

BOOST_AUTO_TEST_CASE(quoted_fields_hold_commas_quotes_and_line_breaks) {
  const auto r = parse_csv("\xEF\xBB\xBFto,note\r\n+1555,\"Smith, \"\"Jr\"\"\nsecond line\"\r\n+1666,\"\"\r\n+1777,,\r\n");
  BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
  BOOST_TEST_REQUIRE(r->size() == 4u);
  BOOST_TEST((*r)[0].fields[0] == "to");  // the byte-order mark is not part of the name
  BOOST_TEST((*r)[1].fields[1] == "Smith, \"Jr\"\nsecond line");
  BOOST_TEST((*r)[2].line == 4u);  // the record before took two lines
  BOOST_TEST((*r)[2].fields[1] == "");
  BOOST_TEST(((*r)[3].fields == std::vector<std::string>{"+1777", "", ""}));
}

BOOST_AUTO_TEST_CASE(a_last_line_without_a_line_break_is_a_record) {
  const auto r = parse_csv("to\n+1555");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->size() == 2u);
  BOOST_TEST(parse_csv("")->empty());
}

BOOST_AUTO_TEST_CASE(what_is_not_csv_is_named_by_its_line) {
  BOOST_TEST(parse_csv("to\n+1555,\"open\n\nstill open").error().message == "line 2: a quoted field is never closed");
  BOOST_TEST(parse_csv("to\n\n+1555,\"closed\"x\n").error().message == "line 3: text after a closing quote");
}

BOOST_AUTO_TEST_SUITE_END()
