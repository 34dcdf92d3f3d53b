#include "voicebridge/elevenlabs/speech_messages.hpp"

#include <array>
#include <boost/json.hpp>

#include "util/json_fields.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::elevenlabs {
namespace json = boost::json;
using util::fail;
using util::object_field;
using util::string_field;

namespace {

// ElevenLabs API reference, "Realtime speech to text", the server's error messages (message_type): Those a new session may get past; the rest are final.
constexpr std::array retryable_stt_errors{"rate_limited", "queue_overflow", "resource_exhausted",
                                          "session_time_limit_exceeded", "transcriber_error", "commit_throttled",
                                          "insufficient_audio_activity", "error"};
constexpr std::array final_stt_errors{"auth_error", "quota_exceeded", "unaccepted_terms", "input_error",
                                      "invalid_request", "chunk_size_exceeded"};

bool one_of(const auto& names, std::string_view name) {
  for (std::string_view n : names)
    if (n == name) return true;
  return false;
}

// The characters an audio chunk speaks: alignment.chars (the text as sent), else normalizedAlignment.chars.
util::result<std::string> alignment_text(const json::object& o) {
  for (const char* key : {"alignment", "normalizedAlignment"}) {
    VB_TRY(alignment, object_field(o, key, false));
    if (!alignment) continue;
    const json::value* chars = alignment->if_contains("chars");
    if (!chars) continue;
    if (!chars->is_array()) return fail(std::string(key) + ".chars is not an array");
    std::string text;
    for (const auto& c : chars->get_array()) {
      if (!c.is_string()) return fail(std::string(key) + ".chars holds a non-string");
      text += c.get_string();
    }
    return text;
  }
  return std::string();
}

// contextId in the messages as sent; context_id in the 2025 specification: both are accepted.
util::result<std::string> context_of(const json::object& o) {
  VB_TRY(camel, string_field(o, "contextId", false));
  if (!camel.empty()) return camel;
  return string_field(o, "context_id", false);
}

bool is_true(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

}  // namespace

std::string serialize_stt_audio(std::string_view audio_base64, bool commit, std::string_view previous_text) {
  json::object o{{"message_type", "input_audio_chunk"}, {"audio_base_64", audio_base64}, {"commit", commit},
                 {"sample_rate", 8000}};
  if (!previous_text.empty()) o["previous_text"] = previous_text;
  return json::serialize(o);
}

util::result<stt_message> parse_stt_message(std::string_view text) {
  VB_TRY(value, util::parse_json_object(text));
  const auto& o = value.get_object();
  VB_TRY(type, string_field(o, "message_type", true));
  if (type == "session_started") {
    VB_TRY(id, string_field(o, "session_id", false));
    return stt_session_started{std::move(id)};
  }
  // A final (settled, not committed) transcript is still speech in progress.
  if (type == "partial_transcript" || type == "final_transcript" || type == "final_transcript_with_timestamps") {
    VB_TRY(t, string_field(o, "text", false));
    return stt_partial{std::move(t)};
  }
  // Only the plain committed message ends a turn: with include_timestamps a _with_timestamps twin follows it.
  if (type == "committed_transcript") {
    VB_TRY(t, string_field(o, "text", false));
    return stt_committed{std::move(t)};
  }
  if (one_of(retryable_stt_errors, type) || one_of(final_stt_errors, type)) {
    VB_TRY(message, string_field(o, "error", false));
    return stt_error{type, std::move(message), one_of(retryable_stt_errors, type)};
  }
  return stt_unknown{std::move(type)};
}

std::string serialize_tts_init(std::string_view context_id, double stability, double similarity_boost) {
  return json::serialize(json::object{{"text", " "},
                                      {"context_id", context_id},
                                      {"voice_settings", {{"stability", stability}, {"similarity_boost", similarity_boost}}}});
}

std::string serialize_tts_text(std::string_view context_id, std::string_view text) {
  return json::serialize(json::object{{"text", text}, {"context_id", context_id}});
}

std::string serialize_tts_flush(std::string_view context_id) {
  return json::serialize(json::object{{"context_id", context_id}, {"flush", true}});
}

std::string serialize_tts_close_context(std::string_view context_id) {
  return json::serialize(json::object{{"context_id", context_id}, {"close_context", true}});
}

// An empty text is a keep-alive: for an open context it resets that context's inactivity timer; bare, the
// socket's (a keep-alive as a context's first message would make its later init fail, §2.2).
std::string serialize_tts_keepalive(std::string_view context_id) {
  if (context_id.empty()) return R"({"text":""})";
  return json::serialize(json::object{{"text", ""}, {"context_id", context_id}});
}

std::string serialize_tts_close_socket() { return R"({"close_socket":true})"; }

util::result<tts_message> parse_tts_message(std::string_view text) {
  VB_TRY(value, util::parse_json_object(text));
  const auto& o = value.get_object();
  VB_TRY(context, context_of(o));
  if (o.contains("error")) {
    VB_TRY(error, string_field(o, "error", true));
    VB_TRY(message, string_field(o, "message", false));
    tts_error e{std::move(error), std::move(message), std::nullopt};
    if (const json::value* code = o.if_contains("code"); code && code->is_int64()) e.code = static_cast<int>(code->get_int64());
    return e;
  }
  if (is_true(o, "isFinal") || is_true(o, "is_final")) return tts_final{std::move(context)};
  const json::value* audio = o.if_contains("audio");
  if (!audio || (!audio->is_string() && !audio->is_null())) return fail("a TTS message without audio, isFinal or error");
  tts_audio a{std::move(context), audio->is_string() ? std::string(audio->get_string()) : std::string(), {}};
  if (!util::is_valid_base64(a.audio_base64)) return fail("audio is not valid base64");
  VB_TRY(spoken, alignment_text(o));
  a.text = std::move(spoken);
  return a;
}

}  // namespace voicebridge::elevenlabs
