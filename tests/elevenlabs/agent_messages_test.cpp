#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "voicebridge/elevenlabs/agent_messages.hpp"

using namespace voicebridge::elevenlabs;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(agent_messages)

BOOST_AUTO_TEST_CASE(parses_documented_server_events) {
  auto meta = std::get<initiation_metadata>(*parse_server_message(
      R"({"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":
         {"conversation_id":"conv_01j","agent_output_audio_format":"ulaw_8000","user_input_audio_format":"pcm_16000"}})"));
  BOOST_TEST(meta.conversation_id == "conv_01j");
  BOOST_TEST(meta.agent_output.is_twilio_native());
  BOOST_TEST(!meta.user_input.is_twilio_native());
  BOOST_TEST(meta.user_input.sample_rate == 16000u);

  auto audio = std::get<audio_event>(*parse_server_message(
      R"({"type":"audio","audio_event":{"audio_base_64":"AAEC","event_id":3,"alignment":{"chars":["H"]}}})"));
  BOOST_TEST(audio.audio_base64 == "AAEC");
  BOOST_TEST(audio.event_id == 3);
  BOOST_TEST(std::get<interruption_event>(*parse_server_message(R"({"type":"interruption","interruption_event":{"event_id":3}})")).event_id == 3);
  auto ping = std::get<ping_event>(*parse_server_message(R"({"type":"ping","ping_event":{"event_id":12345,"ping_ms":null}})"));
  BOOST_TEST(ping.event_id == 12345);
  BOOST_TEST(!ping.ping_ms.has_value());
  BOOST_TEST(std::get<user_transcript>(*parse_server_message(
      R"({"type":"user_transcript","user_transcription_event":{"user_transcript":"I need help","event_id":2}})")).text == "I need help");
  auto corr = std::get<agent_response_correction>(*parse_server_message(
      R"({"type":"agent_response_correction","agent_response_correction_event":{"original_agent_response":"Sure, what's the issue? I can","corrected_agent_response":"Sure, what's","event_id":3}})"));
  BOOST_TEST(corr.corrected == "Sure, what's");
  auto tool = std::get<client_tool_call>(*parse_server_message(
      R"({"type":"client_tool_call","client_tool_call":{"tool_name":"end_call","tool_call_id":"toolu_1","parameters":{"reason":"done"},"event_id":4}})"));
  BOOST_TEST(tool.tool_name == "end_call");
  BOOST_TEST(json::parse(tool.parameters_json) == json::parse(R"({"reason":"done"})"));
}

BOOST_AUTO_TEST_CASE(parses_both_error_shapes) {
  auto documented = std::get<agent_error>(*parse_server_message(
      R"({"type":"error","error_event":{"code":1002,"message":"LLM timed out","error_type":"llm_timeout","reason":"x","debug_message":null,"details":null}})"));
  BOOST_TEST(documented.code.value_or(0) == 1002);
  BOOST_TEST(documented.error_type == "llm_timeout");
  auto flat = std::get<agent_error>(*parse_server_message(
      R"({"type":"error","message":"received 1002 (protocol error) This request exceeds your quota limit."})"));
  BOOST_TEST(flat.code.value_or(0) == 1002);
  BOOST_TEST(flat.message.find("quota") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ignores_unknown_types_and_rejects_malformed) {
  BOOST_TEST(std::get<unknown_event>(*parse_server_message(R"({"type":"vad_score","vad_score_event":{"vad_score":0.9}})")).type == "vad_score");
  for (const char* bad : {"{", R"({"no_type":1})", R"({"type":"audio"})", R"({"type":"audio","audio_event":{"audio_base_64":"%%"}})",
                          R"({"type":"ping","ping_event":{"event_id":"x"}})",
                          R"({"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{"agent_output_audio_format":"mp3_44100"}})"})
    BOOST_TEST(!parse_server_message(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(audio_formats) {
  BOOST_TEST((parse_audio_format("ulaw_8000") == audio_format{audio_format::kind::ulaw, 8000}));
  BOOST_TEST((parse_audio_format("pcm_44100") == audio_format{audio_format::kind::pcm, 44100}));
  BOOST_TEST(!parse_audio_format("ulaw_16000").has_value());
  BOOST_TEST(!parse_audio_format("pcm_").has_value());
  BOOST_TEST(!parse_audio_format("opus_48000_32").has_value());
}

// The per-frame path: an audio event is read as a view into its text, and the caller's audio is written into
// a string that an earlier message left, in its memory.
BOOST_AUTO_TEST_CASE(reads_audio_in_place_and_writes_into_a_reused_string) {
  const std::string text = R"({"type":"audio","audio_event":{"audio_base_64":"AAEC","event_id":7}})";
  const auto view = read_audio_in_place(text);
  BOOST_TEST_REQUIRE(view.has_value());
  BOOST_TEST(view->audio_base64 == "AAEC");
  BOOST_TEST(view->event_id == 7);
  const bool inside_text = view->audio_base64.data() >= text.data() && view->audio_base64.data() + view->audio_base64.size() <= text.data() + text.size();
  BOOST_TEST(inside_text);  // a view, not a copy
  BOOST_TEST(!read_audio_in_place(R"({"type":"audio","audio_event":{"audio_base_64":"AA*C","event_id":7}})").has_value());

  std::string out(300, 'x');
  const char* memory = out.data();
  serialize_user_audio(out, view->audio_base64);
  BOOST_TEST(out == serialize_user_audio("AAEC"));
  BOOST_TEST(static_cast<const void*>(out.data()) == static_cast<const void*>(memory));
}

BOOST_AUTO_TEST_CASE(serializes_client_messages) {
  BOOST_TEST(json::parse(serialize_user_audio("AAEC")) == json::parse(R"({"user_audio_chunk":"AAEC"})"));
  BOOST_TEST(json::parse(serialize_pong(12345)) == json::parse(R"({"type":"pong","event_id":12345})"));
  BOOST_TEST(json::parse(serialize_contextual_update("Caller pressed 2")) ==
             json::parse(R"({"type":"contextual_update","text":"Caller pressed 2"})"));
  BOOST_TEST(json::parse(serialize_tool_result("t1", "ok", false)) ==
             json::parse(R"({"type":"client_tool_result","tool_call_id":"t1","result":"ok","is_error":false})"));
  auto init = json::parse(serialize_initiation({{{"caller_number", "+15551234567"}, {"call_sid", "CA1"}},
                                                R"({"agent":{"first_message":"Hi!"}})"}));
  BOOST_TEST(init.at("type") == "conversation_initiation_client_data");
  BOOST_TEST(init.at("dynamic_variables").at("caller_number") == "+15551234567");
  BOOST_TEST(init.at("conversation_config_override").at("agent").at("first_message") == "Hi!");
}

BOOST_AUTO_TEST_CASE(interruption_filter_drops_audio_up_to_the_interrupted_event) {
  interruption_filter f;
  BOOST_TEST(!f.is_stale(1));
  f.on_interruption(3);
  BOOST_TEST(f.is_stale(2));
  BOOST_TEST(f.is_stale(3));  // <=, as the official server SDKs do
  BOOST_TEST(!f.is_stale(4));
  f.on_interruption(2);  // an older id never moves the bar back
  BOOST_TEST(f.is_stale(3));
}

BOOST_AUTO_TEST_SUITE_END()
