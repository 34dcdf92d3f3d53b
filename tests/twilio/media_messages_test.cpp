#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "voicebridge/twilio/media_messages.hpp"

using namespace voicebridge::twilio;

BOOST_AUTO_TEST_SUITE(media_messages)

BOOST_AUTO_TEST_CASE(parses_twilio_documented_start) {
  auto m = parse_inbound(R"({"event":"start","sequenceNumber":"1",
    "start":{"accountSid":"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "callSid":"CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","tracks":["inbound"],
    "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},
    "customParameters":{"FirstName":"Jane","LastName":"Doe"}},
    "streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","futureField":{"x":1}})");
  BOOST_TEST_REQUIRE(m.has_value());
  auto& s = std::get<start_message>(*m);
  BOOST_TEST(s.sequence_number == 1u);
  BOOST_TEST(s.call_sid == "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
  BOOST_TEST(s.encoding == "audio/x-mulaw");
  BOOST_TEST(s.sample_rate == 8000u);
  BOOST_TEST(s.tracks.size() == 1u);
  BOOST_TEST(*s.parameter("LastName") == "Doe");
  BOOST_TEST(s.parameter("Missing") == nullptr);
}

BOOST_AUTO_TEST_CASE(parses_media_dtmf_mark_stop_connected) {
  auto media = parse_inbound(R"({"event":"media","sequenceNumber":"4","streamSid":"MZ1",
    "media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"no+JhoaJjpw="}})");
  BOOST_TEST_REQUIRE(media.has_value());
  auto& m = std::get<media_message>(*media);
  BOOST_TEST(m.chunk == 2u);
  BOOST_TEST(m.timestamp_ms == 5u);
  BOOST_TEST(m.payload == "no+JhoaJjpw=");
  BOOST_TEST(std::get<dtmf_message>(*parse_inbound(R"({"event":"dtmf","dtmf":{"track":"inbound_track","digit":"#"}})")).digit == "#");
  BOOST_TEST(std::get<mark_message>(*parse_inbound(R"({"event":"mark","mark":{"name":"turn-7"}})")).name == "turn-7");
  BOOST_TEST(std::get<stop_message>(*parse_inbound(R"({"event":"stop","stop":{"callSid":"CA1"}})")).call_sid == "CA1");
  BOOST_TEST(std::get<connected_message>(*parse_inbound(R"({"event":"connected","protocol":"Call","version":"1.0.0"})")).version == "1.0.0");
  BOOST_TEST(std::get<unknown_message>(*parse_inbound(R"({"event":"newthing"})")).event == "newthing");
}

BOOST_AUTO_TEST_CASE(rejects_malformed_messages_with_reasons) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "invalid JSON"},
      {"[]", "message is not a JSON object"},
      {R"({"sequenceNumber":"1"})", "missing string \"event\""},
      {R"({"event":5})", "\"event\" is not a string"},
      {R"({"event":"media"})", "missing object \"media\""},
      {R"({"event":"media","media":{"payload":"***"}})", "media.payload is not valid base64"},
      {R"({"event":"media","media":{"payload":7}})", "\"payload\" is not a string"},
      {R"({"event":"media","sequenceNumber":"x1","media":{"payload":""}})", "\"sequenceNumber\" is not a non-negative integer"},
      {R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA 1"}})", "start.callSid is not a valid SID"},
      {R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","customParameters":{"a":1}}})", "start.customParameters.a is not a string"},
      {R"({"event":"dtmf","dtmf":{"digit":"12"}})", "dtmf.digit is not a DTMF key"},
  };
  for (auto [text, reason] : cases) {
    auto r = parse_inbound(text);
    BOOST_TEST_REQUIRE(!r.has_value(), text);
    BOOST_TEST(r.error().message.starts_with(reason), text << " -> " << r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(serializes_outbound_as_twilio_expects) {
  namespace json = boost::json;
  BOOST_TEST(json::parse(serialize_media("MZ1", "AAEC")) ==
             json::parse(R"({"event":"media","streamSid":"MZ1","media":{"payload":"AAEC"}})"));
  BOOST_TEST(json::parse(serialize_mark("MZ1", "a\"b")) ==
             json::parse(R"({"event":"mark","streamSid":"MZ1","mark":{"name":"a\"b"}})"));
  BOOST_TEST(json::parse(serialize_clear("MZ1")) == json::parse(R"({"event":"clear","streamSid":"MZ1"})"));
  auto back = parse_outbound(serialize_mark("MZ1", "x"));
  BOOST_TEST(back->stream_sid == "MZ1");
  BOOST_TEST(std::get<outbound_mark>(back->message).name == "x");
  BOOST_TEST(!parse_outbound(R"({"event":"start","streamSid":"MZ1"})").has_value());
}

// The per-frame path: a media message is read as views into its text, and the answer is written into a string
// that an earlier message left, in its memory.
BOOST_AUTO_TEST_CASE(reads_media_in_place_and_writes_into_a_reused_string) {
  const std::string text = R"({"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"3","timestamp":"60","payload":"AAEC"},"streamSid":"MZ1"})";
  const auto view = read_media_in_place(text);
  BOOST_TEST_REQUIRE(view.has_value());
  BOOST_TEST(view->payload == "AAEC");
  const bool inside_text = view->payload.data() >= text.data() && view->payload.data() + view->payload.size() <= text.data() + text.size();
  BOOST_TEST(inside_text);  // a view, not a copy
  BOOST_TEST((view->sequence_number == 4u && view->chunk == 3u && view->timestamp_ms == 60u && view->track == "inbound"));
  BOOST_TEST(!read_media_in_place(R"({"event":"media","media":{"payload":"AA*C"}})").has_value());

  std::string out(300, 'x');  // a string an earlier, longer message left
  const char* memory = out.data();
  serialize_media(out, "MZ1", view->payload);
  BOOST_TEST(out == serialize_media("MZ1", "AAEC"));
  BOOST_TEST(static_cast<const void*>(out.data()) == static_cast<const void*>(memory));
}

BOOST_AUTO_TEST_CASE(simulator_side_serializers_round_trip) {
  start_message s;
  s.sequence_number = 1;
  s.stream_sid = "MZ1";
  s.call_sid = "CA1";
  s.account_sid = "AC1";
  s.tracks = {"inbound"};
  s.encoding = "audio/x-mulaw";
  s.sample_rate = 8000;
  s.channels = 1;
  s.custom_parameters = {{"stream_token", "v1.2.x"}};
  auto parsed = std::get<start_message>(*parse_inbound(serialize_start(s)));
  BOOST_TEST(parsed.custom_parameters == s.custom_parameters);
  BOOST_TEST(parsed.sample_rate == 8000u);
  auto media = std::get<media_message>(*parse_inbound(serialize_inbound_media("MZ1", {3, "inbound", 2, 20, "AAAA"})));
  BOOST_TEST(media.sequence_number == 3u);
  BOOST_TEST(media.timestamp_ms == 20u);
}

BOOST_AUTO_TEST_SUITE_END()
