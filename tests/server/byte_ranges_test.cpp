// Range requests (RFC 9110, section 14) decided without I/O: the forms of a byte range, what is ignored, what
// is unsatisfiable, and the Content-Range of each answer.
#include <boost/test/unit_test.hpp>

#include "server/byte_ranges.hpp"

using namespace voicebridge::server;
using kind = range_choice::kind;

namespace {

std::string part(std::string_view header, std::uint64_t size) {
  const auto c = choose_range(header, size);
  if (c.what == kind::whole) return "whole";
  if (c.what == kind::unsatisfiable) return "416 " + content_range(c, size);
  return content_range(c, size);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(byte_ranges)

BOOST_AUTO_TEST_CASE(one_range_in_each_of_its_forms) {
  BOOST_TEST(part("bytes=0-99", 1000) == "bytes 0-99/1000");
  BOOST_TEST(part("bytes=500-", 1000) == "bytes 500-999/1000");
  BOOST_TEST(part("bytes=-100", 1000) == "bytes 900-999/1000");
  BOOST_TEST(part("bytes=0-0", 1000) == "bytes 0-0/1000");
  BOOST_TEST(part(" bytes=10-20 ", 1000) == "bytes 10-20/1000");
  BOOST_TEST(choose_range("bytes=10-20", 1000).range.length() == 11u);
}

BOOST_AUTO_TEST_CASE(an_end_past_the_file_is_clipped_and_a_long_suffix_is_the_whole_file_as_a_part) {
  BOOST_TEST(part("bytes=900-5000", 1000) == "bytes 900-999/1000");
  BOOST_TEST(part("bytes=-5000", 1000) == "bytes 0-999/1000");
}

BOOST_AUTO_TEST_CASE(a_range_starting_past_the_end_or_an_empty_suffix_is_unsatisfiable) {
  BOOST_TEST(part("bytes=1000-", 1000) == "416 bytes */1000");
  BOOST_TEST(part("bytes=1000-2000", 1000) == "416 bytes */1000");
  BOOST_TEST(part("bytes=-0", 1000) == "416 bytes */1000");
  BOOST_TEST(part("bytes=0-", 0) == "416 bytes */0");
}

BOOST_AUTO_TEST_CASE(what_does_not_parse_and_what_we_do_not_serve_is_ignored_for_the_whole_file) {
  for (const char* header : {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-4", "bytes=1-2-3", "items=0-9",
                             "bytes=0-9,20-29", "bytes=+1-5", "bytes=99999999999999999999-"})
    BOOST_TEST(part(header, 1000) == "whole", header);
}

BOOST_AUTO_TEST_SUITE_END()
