#include <boost/test/unit_test.hpp>

#include "voicebridge/twilio/stream_token.hpp"

using namespace voicebridge::twilio;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(stream_token)

const std::string key = "stream-token-key-0123456789";
const auto now = system_clock::time_point(seconds(1'800'000'000));

BOOST_AUTO_TEST_CASE(minted_token_verifies_for_its_call_until_expiry) {
  const auto token = mint_stream_token(key, "CA123", "sales", now + seconds(300));
  BOOST_TEST(token.starts_with("v2.1800000300."));
  BOOST_TEST(token.find(key) == std::string::npos);
  BOOST_TEST(verify_stream_token(key, token, "CA123", "sales", now) == stream_token_status::valid);
  BOOST_TEST(verify_stream_token(key, token, "CA123", "sales", now + seconds(299)) == stream_token_status::valid);
  BOOST_TEST(verify_stream_token(key, token, "CA123", "sales", now + seconds(300)) == stream_token_status::expired);
}

BOOST_AUTO_TEST_CASE(rejects_other_call_other_route_other_key_and_tampering) {
  const auto token = mint_stream_token(key, "CA123", "sales", now + seconds(300));
  BOOST_TEST(verify_stream_token(key, token, "CA124", "sales", now) == stream_token_status::bad_signature);
  BOOST_TEST(verify_stream_token(key + "x", token, "CA123", "sales", now) == stream_token_status::bad_signature);
  auto later = token;
  later.replace(3, 10, "1900000000");  // extend the expiry: the MAC no longer matches
  BOOST_TEST(verify_stream_token(key, later, "CA123", "sales", now) == stream_token_status::bad_signature);
  BOOST_TEST(verify_stream_token(key, token, "CA123", "support", now) == stream_token_status::bad_signature);
  BOOST_TEST(verify_stream_token(key, token, "CA123", "", now) == stream_token_status::bad_signature);
  auto flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  BOOST_TEST(verify_stream_token(key, flipped, "CA123", "sales", now) == stream_token_status::bad_signature);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_tokens) {
  for (std::string bad : {std::string(), std::string("v2"), std::string("v2."), std::string("v1.1800000300.abc"),
                          std::string("v2.abc.def"), std::string("v2..abc"), std::string("v2.-5.abc"), key})
    BOOST_TEST(verify_stream_token(key, bad, "CA123", "sales", now) == stream_token_status::malformed, bad);
  BOOST_TEST(verify_stream_token("", mint_stream_token(key, "CA123", "sales", now + seconds(9)), "CA123", "sales", now) ==
             stream_token_status::malformed);
}

BOOST_AUTO_TEST_SUITE_END()
