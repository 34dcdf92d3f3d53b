#include <boost/test/unit_test.hpp>

#include "voicebridge/util/base64.hpp"

using namespace voicebridge::util;

BOOST_AUTO_TEST_SUITE(base64)

BOOST_AUTO_TEST_CASE(encodes_rfc4648_vectors) {
  BOOST_TEST(base64_encode(std::string_view("")) == "");
  BOOST_TEST(base64_encode(std::string_view("f")) == "Zg==");
  BOOST_TEST(base64_encode(std::string_view("fo")) == "Zm8=");
  BOOST_TEST(base64_encode(std::string_view("foo")) == "Zm9v");
  BOOST_TEST(base64_encode(std::string_view("foobar")) == "Zm9vYmFy");
}

BOOST_AUTO_TEST_CASE(round_trips_all_byte_values) {
  std::vector<std::uint8_t> bytes(256 * 3 + 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 7);
  const auto text = base64_encode(bytes);
  BOOST_TEST(is_valid_base64(text));
  BOOST_TEST(base64_decoded_size(text) == bytes.size());
  BOOST_TEST(*base64_decode(text) == bytes);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_input) {
  for (std::string_view bad : {"Zg=", "Zg", "Z===", "Zm9v!", "Zh==", "Zm9=", "=Zg=", "Zg==Zg==", "Zm 9v"}) {
    BOOST_TEST(!base64_decode(bad).has_value(), bad);
    BOOST_TEST(!is_valid_base64(bad), bad);
  }
}

// Validation reads sixteen characters at a time, then the rest one by one: a bad character is found at every
// position of a block and of the tail, at every length.
BOOST_AUTO_TEST_CASE(validation_finds_a_bad_character_wherever_it_is) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t length = 4; length <= 72; length += 4) {
    std::string text;
    for (std::size_t i = 0; i < length; ++i) text += alphabet[(i * 11) % alphabet.size()];
    BOOST_TEST(is_valid_base64(text), text);
    for (std::size_t at = 0; at < length; ++at) {
      for (const char bad : {'!', '-', '_', '=', '@', '[', '`', '{', ':', '\0', '\x80', '\xff'}) {
        if (bad == '=' && at + 2 >= length) continue;  // padding there is valid
        std::string broken = text;
        broken[at] = bad;
        BOOST_TEST(!is_valid_base64(broken), "length " << length << " at " << at << " char " << int(bad));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(url_alphabet_round_trips_without_padding) {
  const std::vector<std::uint8_t> bytes{0xfb, 0xff, 0xfe, 0x01};
  const auto text = base64url_encode(bytes);
  BOOST_TEST(text == "-__-AQ");
  BOOST_TEST(*base64url_decode(text) == bytes);
  BOOST_TEST(!base64url_decode("-__-AQ=").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
