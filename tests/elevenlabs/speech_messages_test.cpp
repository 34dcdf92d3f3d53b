#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "voicebridge/elevenlabs/speech_messages.hpp"

using namespace voicebridge::elevenlabs;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(speech_messages)

BOOST_AUTO_TEST_CASE(stt_audio_chunk_carries_the_twilio_payload_untouched) {
  const auto o = json::parse(serialize_stt_audio("f39/fw==")).as_object();
  BOOST_TEST(o.at("message_type").as_string() == "input_audio_chunk");
  BOOST_TEST(o.at("audio_base_64").as_string() == "f39/fw==");
  BOOST_TEST(o.at("commit").as_bool() == false);
  BOOST_TEST(o.at("sample_rate").as_int64() == 8000);
  BOOST_TEST(!o.contains("previous_text"));
  BOOST_TEST(json::parse(serialize_stt_audio("", true, "earlier")).at("previous_text").as_string() == "earlier");
}

BOOST_AUTO_TEST_CASE(stt_transcripts_are_partial_or_committed) {
  auto started = parse_stt_message(R"({"message_type":"session_started","session_id":"s_1","config":{}})");
  BOOST_TEST_REQUIRE(started.has_value());
  BOOST_TEST(std::get<stt_session_started>(*started).session_id == "s_1");
  auto partial = parse_stt_message(R"({"message_type":"partial_transcript","text":"I'd like to"})");
  BOOST_TEST(std::get<stt_partial>(*partial).text == "I'd like to");
  auto settled = parse_stt_message(R"({"message_type":"final_transcript","text":"I'd like"})");
  BOOST_TEST(std::holds_alternative<stt_partial>(*settled));  // settled, not committed: still speech
  auto committed = parse_stt_message(R"({"message_type":"committed_transcript","text":"I'd like to pay."})");
  BOOST_TEST(std::get<stt_committed>(*committed).text == "I'd like to pay.");
  // With timestamps the same commit comes twice: only the plain one ends the turn.
  auto twin = parse_stt_message(R"({"message_type":"committed_transcript_with_timestamps","text":"x","words":[]})");
  BOOST_TEST(std::holds_alternative<stt_unknown>(*twin));
}

BOOST_AUTO_TEST_CASE(every_documented_stt_error_is_classified) {
  for (const char* type : {"auth_error", "quota_exceeded", "unaccepted_terms", "input_error", "invalid_request", "chunk_size_exceeded"}) {
    auto e = parse_stt_message(std::string(R"({"message_type":")") + type + R"(","error":"no"})");
    BOOST_TEST_REQUIRE(std::holds_alternative<stt_error>(*e), type);
    BOOST_TEST(!std::get<stt_error>(*e).retryable, type);
    BOOST_TEST(std::get<stt_error>(*e).message == "no");
  }
  for (const char* type : {"error", "rate_limited", "queue_overflow", "resource_exhausted", "session_time_limit_exceeded",
                           "transcriber_error", "commit_throttled", "insufficient_audio_activity"}) {
    auto e = parse_stt_message(std::string(R"({"message_type":")") + type + R"("})");
    BOOST_TEST_REQUIRE(std::holds_alternative<stt_error>(*e), type);
    BOOST_TEST(std::get<stt_error>(*e).retryable, type);
  }
}

BOOST_AUTO_TEST_CASE(bad_stt_messages_are_errors) {
  BOOST_TEST(!parse_stt_message("not json").has_value());
  BOOST_TEST(!parse_stt_message(R"({"text":"no type"})").has_value());
  BOOST_TEST(!parse_stt_message(R"({"message_type":"partial_transcript","text":5})").has_value());
  BOOST_TEST(std::holds_alternative<stt_unknown>(*parse_stt_message(R"({"message_type":"something_new"})")));
}

BOOST_AUTO_TEST_CASE(tts_context_messages_follow_the_protocol) {
  const auto init = json::parse(serialize_tts_init("turn-1", 0.5, 0.8)).as_object();
  BOOST_TEST(init.at("text").as_string() == " ");  // a context starts with a single space
  BOOST_TEST(init.at("context_id").as_string() == "turn-1");
  BOOST_TEST(init.at("voice_settings").at("stability").as_double() == 0.5);
  const auto text = json::parse(serialize_tts_text("turn-1", "Hello there. ")).as_object();
  BOOST_TEST(text.at("text").as_string() == "Hello there. ");
  BOOST_TEST(!text.contains("voice_settings"));  // never again after the first message
  BOOST_TEST(json::parse(serialize_tts_flush("turn-1")).at("flush").as_bool());
  BOOST_TEST(json::parse(serialize_tts_close_context("turn-1")).at("close_context").as_bool());
  BOOST_TEST(serialize_tts_keepalive("") == R"({"text":""})");
  const auto keep = json::parse(serialize_tts_keepalive("turn-2")).as_object();
  BOOST_TEST(keep.at("text").as_string() == "");
  BOOST_TEST(keep.at("context_id").as_string() == "turn-2");
  BOOST_TEST(json::parse(serialize_tts_close_socket()).at("close_socket").as_bool());
}

BOOST_AUTO_TEST_CASE(tts_audio_carries_its_context_and_spoken_text) {
  auto audio = parse_tts_message(
      R"({"audio":"f39/fw==","isFinal":null,"contextId":"turn-3",)"
      R"("alignment":{"chars":["H","i"," "],"charStartTimesMs":[0,70,90],"charDurationsMs":[70,20,10]},)"
      R"("normalizedAlignment":{"chars":["h","i"," "]}})");
  BOOST_TEST_REQUIRE(audio.has_value());
  const auto& a = std::get<tts_audio>(*audio);
  BOOST_TEST(a.context_id == "turn-3");
  BOOST_TEST(a.audio_base64 == "f39/fw==");
  BOOST_TEST(a.text == "Hi ");  // the text as sent, not the normalized one
  // The specification's snake_case spelling, and audio without alignment.
  auto snake = parse_tts_message(R"({"audio":"f39/fw==","context_id":"c"})");
  BOOST_TEST(std::get<tts_audio>(*snake).context_id == "c");
  BOOST_TEST(std::get<tts_audio>(*snake).text == "");
}

BOOST_AUTO_TEST_CASE(tts_final_and_error) {
  BOOST_TEST(std::get<tts_final>(*parse_tts_message(R"({"isFinal":true,"contextId":"turn-1"})")).context_id == "turn-1");
  BOOST_TEST(std::get<tts_final>(*parse_tts_message(R"({"is_final":true,"context_id":"t"})")).context_id == "t");
  auto e = parse_tts_message(R"({"message":"Have not received a new text input","error":"input_timeout_exceeded","code":1008})");
  BOOST_TEST_REQUIRE(std::holds_alternative<tts_error>(*e));
  BOOST_TEST(std::get<tts_error>(*e).error == "input_timeout_exceeded");
  BOOST_TEST(std::get<tts_error>(*e).code.value_or(0) == 1008);
}

BOOST_AUTO_TEST_CASE(bad_tts_messages_are_errors) {
  BOOST_TEST(!parse_tts_message("[1]").has_value());
  BOOST_TEST(!parse_tts_message(R"({"contextId":"x"})").has_value());  // neither audio, final nor error
  BOOST_TEST(!parse_tts_message(R"({"audio":"not base64!","contextId":"x"})").has_value());
  BOOST_TEST(!parse_tts_message(R"({"audio":"f39/fw==","alignment":{"chars":"Hi"}})").has_value());
  BOOST_TEST(!parse_tts_message(R"({"audio":"f39/fw==","contextId":7})").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
