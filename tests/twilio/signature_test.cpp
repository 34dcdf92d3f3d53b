#include <boost/test/unit_test.hpp>

#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/signature.hpp"

using namespace voicebridge::twilio;

namespace {

form_params call_params(const std::string& caller) {
  return form_params({{"CallSid", "CA1234567890ABCDE"}, {"Caller", caller}, {"Digits", "1234"}, {"From", caller},
                      {"To", "+18005551212"}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(signature)

BOOST_AUTO_TEST_CASE(matches_twilio_security_doc_vector) {
  const std::string url = "https://example.com/myapp.php?foo=1&bar=2";
  const auto params = call_params("+14158675310");
  BOOST_TEST(signature_payload(url, params) ==
             "https://example.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675310Digits1234From+"
             "14158675310To+18005551212");
  BOOST_TEST(compute_signature("12345", url, params) == "L/OH5YylLD5NRKLltdqwSvS0BnU=");
  BOOST_TEST(validate_signature("12345", "L/OH5YylLD5NRKLltdqwSvS0BnU=", url, params));
}

BOOST_AUTO_TEST_CASE(sorts_parameters_byte_wise_whatever_their_order) {
  form_params shuffled({{"To", "+18005551212"}, {"From", "+14158675309"}, {"Digits", "1234"},
                        {"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675309"}});
  BOOST_TEST(compute_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", shuffled) ==
             "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

BOOST_AUTO_TEST_CASE(accepts_url_with_or_without_default_port) {
  const auto params = call_params("+14158675309");
  // Signed over :443, validated against the plain URL, and the reverse.
  BOOST_TEST(validate_signature("12345", "kvajT1Ptam85bY51eRf/AJRuM3w=", "https://mycompany.com/myapp.php?foo=1&bar=2", params));
  BOOST_TEST(validate_signature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "https://mycompany.com:443/myapp.php?foo=1&bar=2", params));
  BOOST_TEST(validate_signature("12345", "0ZXoZLH/DfblKGATFgpif+LLRf4=", "http://mycompany.com/myapp.php?foo=1&bar=2", params));
  BOOST_TEST(validate_signature("12345", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", params));
}

BOOST_AUTO_TEST_CASE(repeated_names_contribute_every_value_sorted) {
  form_params params({{"SidAccount", "AC123"}, {"Digits", "5678"}, {"Sid", "CA123"}, {"Digits", "1234"}});
  BOOST_TEST(compute_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params) ==
             "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

// A name sent twice with the same value: twilio-node signs it once, twilio-python twice; both are Twilio's
// own helpers, so both signatures are accepted, and nothing else is. (Expected values from Python's hmac.)
BOOST_AUTO_TEST_CASE(identical_repeated_values_validate_as_either_helper_library_signs_them) {
  const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  form_params params({{"CallSid", "CA123"}, {"Digits", "1234"}, {"To", "+18005551212"}, {"Digits", "1234"}});
  BOOST_TEST(compute_signature("12345", url, params) == "2VCJIrik2b5o5wIUaQ5qxmlvnLA=");
  BOOST_TEST(compute_signature("12345", url, params, payload_form::deduplicated) == "DLPdbX0VNTCPbEmZ+mTmgS75iuA=");
  BOOST_TEST(validate_signature("12345", "DLPdbX0VNTCPbEmZ+mTmgS75iuA=", url, params));  // twilio-node
  BOOST_TEST(validate_signature("12345", "2VCJIrik2b5o5wIUaQ5qxmlvnLA=", url, params));  // twilio-python
  // Without a repeated pair there is one signature only: the deduplicated form of another request is not it.
  form_params once({{"CallSid", "CA123"}, {"Digits", "1234"}, {"To", "+18005551212"}});
  BOOST_TEST(!validate_signature("12345", "2VCJIrik2b5o5wIUaQ5qxmlvnLA=", url, once));
  BOOST_TEST(validate_signature("12345", "DLPdbX0VNTCPbEmZ+mTmgS75iuA=", url, once));  // the same payload
  BOOST_TEST(!validate_signature("12345", "DLPdbX0VNTCPbEmZ+mTmgS75iuA=", url + "&x=1", params));
}

BOOST_AUTO_TEST_CASE(validates_json_body_hash) {
  const std::string url =
      "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
  const std::string body = R"({"property": "value", "boolean": true})";
  BOOST_TEST(validate_signature_with_body("12345", "a9nBmqA0ju/hNViExpshrM61xv4=", url, body));
  BOOST_TEST(!validate_signature_with_body("12345", "a9nBmqA0ju/hNViExpshrM61xv4=", url, body + " "));
}

BOOST_AUTO_TEST_CASE(stream_url_vectors) {
  BOOST_TEST(compute_signature("12345", "wss://voice.example.test/media-stream", {}) == "DHPH2SL3lKg3A5s23PxpPrANQVg=");
  BOOST_TEST(compute_signature("12345", "wss://voice.example.test/media-stream/", {}) == "K0deaDmCtJ9SxxG1+/835CUqEug=");
  BOOST_TEST(compute_signature("12345", "wss://voice.example.test/ws/twilio/stream", {}) == "golVfoqVHmWThVIVbxVT2OpFcUQ=");
}

BOOST_AUTO_TEST_CASE(rejects_signature_over_other_url_params_or_token) {
  const auto params = call_params("+14158675310");
  const std::string sig = "L/OH5YylLD5NRKLltdqwSvS0BnU=";
  BOOST_TEST(!validate_signature("12345", sig, "https://example.com/myapp.php?foo=1&bar=3", params));
  BOOST_TEST(!validate_signature("12345", sig, "https://evil.example.com/myapp.php?foo=1&bar=2", params));
  BOOST_TEST(!validate_signature("54321", sig, "https://example.com/myapp.php?foo=1&bar=2", params));
  auto extra = params;
  extra.add("Extra", "1");
  BOOST_TEST(!validate_signature("12345", sig, "https://example.com/myapp.php?foo=1&bar=2", extra));
  BOOST_TEST(!validate_signature("12345", "", "https://example.com/myapp.php?foo=1&bar=2", params));
  BOOST_TEST(!validate_signature("", sig, "https://example.com/myapp.php?foo=1&bar=2", params));
}

BOOST_AUTO_TEST_CASE(form_decoding_handles_plus_percent_and_unicode) {
  auto form = parse_form("From=%2B14155550100&CallerName=J%C3%BCrgen+M%C3%BCller&Empty=&Flag");
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->get_or("From", "") == "+14155550100");
  BOOST_TEST(form->get_or("CallerName", "") == "J\xC3\xBCrgen M\xC3\xBCller");
  BOOST_TEST(form->get("Empty").has_value());
  BOOST_TEST(form->get("Flag").has_value());
  BOOST_TEST(!parse_form("a=%zz").has_value());
  // Unicode values are signed as their UTF-8 bytes, and the encoder round-trips them.
  const auto encoded = encode_form(*form);
  BOOST_TEST(parse_form(encoded)->all() == form->all());
  BOOST_TEST(compute_signature("12345", "https://x.test/a", *form) ==
             compute_signature("12345", "https://x.test/a", *parse_form(encoded)));
}

BOOST_AUTO_TEST_SUITE_END()
