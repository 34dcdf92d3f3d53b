// The per-frame fast path (util/simple_json.hpp) and the two parsers built on it, checked against Boost.JSON:
// what the fast path takes it must read exactly as the reference does, and what it refuses goes to the
// reference unchanged.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "util/simple_json.hpp"
#include "voicebridge/elevenlabs/agent_messages.hpp"
#include "voicebridge/twilio/media_messages.hpp"

using voicebridge::util::simple_json_object;
namespace twilio = voicebridge::twilio;
namespace elevenlabs = voicebridge::elevenlabs;

BOOST_AUTO_TEST_SUITE(simple_json)

BOOST_AUTO_TEST_CASE(reads_strings_integers_and_one_nested_object) {
  simple_json_object o;
  BOOST_TEST_REQUIRE(o.parse(R"( {"event":"media", "n" : 42 ,"media":{"payload":"AAAA","chunk":"7"}, "z":{}} )"));
  BOOST_TEST(o.find("event")->value == "media");
  BOOST_TEST((o.find("n")->type == simple_json_object::kind::integer));
  BOOST_TEST(o.find("n")->value == "42");
  BOOST_TEST((o.find("media")->type == simple_json_object::kind::object));
  BOOST_TEST(o.find("media", "payload")->value == "AAAA");
  BOOST_TEST(o.find("payload") == nullptr);  // nested fields are found under their parent only
  BOOST_TEST(*voicebridge::util::simple_counter(*o.find("media", "chunk")) == 7u);
  BOOST_TEST(o.parse("{}"));
  // The same key in two objects is no repetition.
  BOOST_TEST_REQUIRE(o.parse(R"({"m":{"a":"in"},"a":"out","n":{"a":"too"}})"));
  BOOST_TEST(o.find("a")->value == "out");
  BOOST_TEST(o.find("m", "a")->value == "in");
  BOOST_TEST(o.find("n", "a")->value == "too");
}

BOOST_AUTO_TEST_CASE(refuses_everything_outside_the_simple_form) {
  const std::vector<std::string> refused = {
      "",  "{", "[]", R"({"a":"x\"y"})", R"({"a":"\u0041"})", "{\"a\":\"caf\xc3\xa9\"}", "{\"a\":\"tab\there\"}",
      R"({"a":-1})", R"({"a":1.5})", R"({"a":1e3})", R"({"a":01})", R"({"a":1234567890123456789})",
      R"({"a":true})", R"({"a":null})", R"({"a":[1]})", R"({"a":{"b":{"c":1}}})", R"({"":{"a":1}})",
      R"({"a":1,"a":2})", R"({"m":{"a":1,"a":2}})", R"({"a":1,"m":{"x":1},"a":2})", R"({"a":1,})", R"({"a":1} x)", R"({"a" 1})", R"({a:1})",
      R"({"a":"unterminated})"};
  for (const auto& text : refused) {
    simple_json_object o;
    BOOST_TEST(!o.parse(text), text);
  }
  std::string many = "{";
  for (int i = 0; i < 17; ++i) many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  simple_json_object o;
  BOOST_TEST(!o.parse(many + "}"));  // more fields than it holds
}

// Strings are scanned sixteen characters at a time, then one by one: the closing quote and a character a
// simple string may not hold are found at every position, whatever the length.
BOOST_AUTO_TEST_CASE(finds_the_end_of_a_string_and_a_refused_character_at_every_position) {
  for (std::size_t length = 0; length <= 40; ++length) {
    const std::string value(length, 'v');
    for (const std::string tail : {"}", ",\"k2\":\"a long enough second value\"}"}) {
      simple_json_object o;
      const std::string text = "{\"k\":\"" + value + "\"" + tail;
      BOOST_TEST_REQUIRE(o.parse(text), text);
      BOOST_TEST(o.find("k")->value == value);
    }
    for (std::size_t at = 0; at < length; ++at) {
      for (const char bad : {'"', '\x01', '\x1f', '\x7f', '\x80', '\xff', '\\'}) {
        std::string broken = value;
        broken[at] = bad;
        simple_json_object o;
        BOOST_TEST(!o.parse("{\"k\":\"" + broken + "\",\"k2\":\"a long enough second value\"}"),
                   "length " << length << " at " << at << " char " << int(bad));
      }
    }
  }
}

// Messages the fast path takes, and what Boost.JSON makes of them: the same, field by field.
BOOST_AUTO_TEST_CASE(twilio_media_fast_path_agrees_with_the_reference) {
  const std::vector<std::string> taken = {
      R"({"event":"media","sequenceNumber":"4","streamSid":"MZ1","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"no+JhoaJjpw="}})",
      R"({ "media" : { "payload" : "AAAA", "timestamp" : 9 }, "event" : "media", "extra" : {"x":"y"} })",
      R"({"event":"media","media":{"payload":""}})"};
  for (const auto& text : taken) {
    auto fast = twilio::parse_media_fast(text);
    auto reference = twilio::parse_inbound_dom(text);
    BOOST_TEST_REQUIRE(fast.has_value(), text);
    BOOST_TEST_REQUIRE(reference.has_value(), text);
    const auto& r = std::get<twilio::media_message>(*reference);
    BOOST_TEST(fast->sequence_number == r.sequence_number);
    BOOST_TEST(fast->track == r.track);
    BOOST_TEST(fast->chunk == r.chunk);
    BOOST_TEST(fast->timestamp_ms == r.timestamp_ms);
    BOOST_TEST(fast->payload == r.payload);
  }
  // Refused by the fast path; parse_inbound still answers as the reference does (an error, or a message).
  const std::vector<std::string> refused = {
      R"({"event":"media","media":{"payload":"AA"}})",               // not base64: an error
      R"({"event":"media","media":{"payload":"AAAA","chunk":"x"}})",  // a bad counter: an error
      R"({"event":"media","media":"AAAA"})",                          // media not an object: an error
      R"({"event":"media","media":{"payload":"AAAA","track":1}})",    // track not a string: an error
      R"({"event":"media","media":{"payload":"AA\u0041A"}})",         // an escape: Boost.JSON reads it
      R"({"event":"mark","mark":{"name":"m"}})"};
  for (const auto& text : refused) {
    BOOST_TEST(!twilio::parse_media_fast(text).has_value(), text);
    BOOST_TEST(twilio::parse_inbound(text).has_value() == twilio::parse_inbound_dom(text).has_value(), text);
  }
  auto escaped = twilio::parse_inbound(R"({"event":"media","media":{"payload":"AA\u0041A"}})");
  BOOST_TEST_REQUIRE(escaped.has_value());
  BOOST_TEST(std::get<twilio::media_message>(*escaped).payload == "AAAA");
}

BOOST_AUTO_TEST_CASE(agent_audio_fast_path_agrees_with_the_reference) {
  const std::vector<std::string> taken = {
      R"({"type":"audio","audio_event":{"audio_base_64":"f39/f38=","event_id":3}})",
      R"({"audio_event":{"event_id":12,"audio_base_64":"AAAA"},"type":"audio","x":"y"})",
      R"({"type":"audio","audio_event":{"audio_base_64":"AAAA"}})"};
  for (const auto& text : taken) {
    auto fast = elevenlabs::parse_audio_fast(text);
    auto reference = elevenlabs::parse_server_message_dom(text);
    BOOST_TEST_REQUIRE(fast.has_value(), text);
    BOOST_TEST_REQUIRE(reference.has_value(), text);
    const auto& r = std::get<elevenlabs::audio_event>(*reference);
    BOOST_TEST(fast->audio_base64 == r.audio_base64);
    BOOST_TEST(fast->event_id == r.event_id);
  }
  const std::vector<std::string> refused = {
      R"({"type":"audio","audio_event":{"audio_base_64":"f39/f38=","event_id":3,"alignment":{"chars":["H"]}}})",
      R"({"type":"audio","audio_event":{"audio_base_64":"AAA","event_id":3}})",
      R"({"type":"audio","audio_event":{"audio_base_64":"AAAA","event_id":"3"}})",
      R"({"type":"ping","ping_event":{"event_id":1}})"};
  for (const auto& text : refused) {
    BOOST_TEST(!elevenlabs::parse_audio_fast(text).has_value(), text);
    BOOST_TEST(elevenlabs::parse_server_message(text).has_value() ==
                   elevenlabs::parse_server_message_dom(text).has_value(), text);
  }
  auto aligned = elevenlabs::parse_server_message(refused[0]);
  BOOST_TEST_REQUIRE(aligned.has_value());
  BOOST_TEST(std::get<elevenlabs::audio_event>(*aligned).event_id == 3);
}

BOOST_AUTO_TEST_SUITE_END()
