#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "voicebridge/audio/g711.hpp"

using namespace voicebridge::audio;

BOOST_AUTO_TEST_SUITE(g711)

BOOST_AUTO_TEST_CASE(mulaw_reference_values) {
  // ITU-T G.711 / Sun g711.c values.
  BOOST_TEST(mulaw_encode(std::int16_t{0}) == 0xFF);
  BOOST_TEST(mulaw_encode(std::int16_t{32767}) == 0x80);
  BOOST_TEST(mulaw_encode(std::int16_t{-32768}) == 0x00);
  BOOST_TEST(mulaw_encode(std::int16_t{-1}) == 0x7F);
  BOOST_TEST(mulaw_encode(std::int16_t{1000}) == 0xCE);
  BOOST_TEST(mulaw_decode(std::uint8_t{0x00}) == -32124);
  BOOST_TEST(mulaw_decode(std::uint8_t{0x80}) == 32124);
  BOOST_TEST(mulaw_decode(std::uint8_t{0xFF}) == 0);
  BOOST_TEST(mulaw_decode(std::uint8_t{0x7F}) == 0);
  BOOST_TEST(mulaw_decode(std::uint8_t{0xCE}) == 988);
}

BOOST_AUTO_TEST_CASE(mulaw_decode_then_encode_is_identity) {
  for (int code = 0; code < 256; ++code) {
    if (code == 0x7F) continue;  // negative zero re-encodes as positive zero
    BOOST_TEST(mulaw_encode(mulaw_decode(static_cast<std::uint8_t>(code))) == code);
  }
}

BOOST_AUTO_TEST_CASE(mulaw_error_is_bounded_by_segment_step) {
  for (int v = -32768; v <= 32767; v += 7) {
    const int decoded = mulaw_decode(mulaw_encode(static_cast<std::int16_t>(v)));
    const int magnitude = std::abs(v);
    BOOST_TEST(std::abs(decoded - std::clamp(v, -32124, 32124)) <= std::max(8, magnitude / 16 + 8), v);
  }
}

BOOST_AUTO_TEST_CASE(alaw_reference_values_and_identity) {
  BOOST_TEST(alaw_encode(std::int16_t{0}) == 0xD5);
  BOOST_TEST(alaw_decode(std::uint8_t{0xD5}) == 8);
  BOOST_TEST(alaw_decode(std::uint8_t{0x55}) == -8);
  BOOST_TEST(alaw_decode(std::uint8_t{0xAA}) == 32256);
  for (int code = 0; code < 256; ++code)
    BOOST_TEST(alaw_encode(alaw_decode(static_cast<std::uint8_t>(code))) == code);
}

BOOST_AUTO_TEST_SUITE_END()
