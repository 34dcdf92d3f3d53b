// Hex both ways (util/crypto.hpp): what hex_lower writes, from_hex reads back; what is not hex is refused.
#include <boost/test/unit_test.hpp>

#include "voicebridge/util/crypto.hpp"

using namespace voicebridge::util;

BOOST_AUTO_TEST_SUITE(hex)

BOOST_AUTO_TEST_CASE(every_byte_round_trips_and_either_case_reads) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  BOOST_TEST(from_hex(hex_lower(all)).value() == all);
  BOOST_TEST(from_hex("00ffAb").value() == std::string("\x00\xff\xab", 3));
  BOOST_TEST(from_hex("").value() == "");
}

BOOST_AUTO_TEST_CASE(odd_lengths_and_other_characters_are_refused) {
  for (const char* text : {"0", "abc", "0g", "zz", " 0", "0x00", "\\x00"}) BOOST_TEST(!from_hex(text).has_value(), text);
}

BOOST_AUTO_TEST_SUITE_END()
