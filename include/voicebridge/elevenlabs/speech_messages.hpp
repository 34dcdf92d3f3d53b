// ElevenLabs realtime speech-to-text (ElevenLabs API reference, "Realtime speech to text") and multi-context text-to-speech ("Multi-Context WebSocket") WebSocket
// messages, both directions, as plain structs: what pipeline mode speaks to the two sockets.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "voicebridge/util/result.hpp"

namespace voicebridge::elevenlabs {

// --- Speech to text (Scribe v2 Realtime) ---

// Gateway -> server: the only client message; `commit` ends a segment by hand (we use the VAD strategy).
std::string serialize_stt_audio(std::string_view audio_base64, bool commit = false, std::string_view previous_text = {});

struct stt_session_started {
  std::string session_id;
};
// Speech in progress: the gateway's barge-in signal. (final_transcript, settled but not committed, is one too.)
struct stt_partial {
  std::string text;
};
// A user turn is over (VAD commit).
struct stt_committed {
  std::string text;
};
// Every documented error type. `retryable`: a reconnect may help (rate, queue, throttling, session time);
// the others (auth, quota, terms, invalid requests and input) will not pass.
struct stt_error {
  std::string type;
  std::string message;
  bool retryable = false;
};
struct stt_unknown {
  std::string type;
};
using stt_message = std::variant<stt_session_started, stt_partial, stt_committed, stt_error, stt_unknown>;
util::result<stt_message> parse_stt_message(std::string_view text);

// --- Text to speech, multi-context ---

// Gateway -> server. The first message of a context carries the voice settings (they may not change later).
std::string serialize_tts_init(std::string_view context_id, double stability, double similarity_boost);
std::string serialize_tts_text(std::string_view context_id, std::string_view text);  // text ends with a space
std::string serialize_tts_flush(std::string_view context_id);
std::string serialize_tts_close_context(std::string_view context_id);
std::string serialize_tts_keepalive(std::string_view context_id);  // empty: no context is open yet
std::string serialize_tts_close_socket();

struct tts_audio {
  std::string context_id;
  std::string audio_base64;  // in the socket's output_format (ulaw_8000 here)
  std::string text;          // the characters this chunk speaks (alignment.chars joined), empty without alignment
};
struct tts_final {
  std::string context_id;
};
struct tts_error {
  std::string error;  // e.g. input_timeout_exceeded, max_active_conversations
  std::string message;
  std::optional<int> code;
};
using tts_message = std::variant<tts_audio, tts_final, tts_error>;
util::result<tts_message> parse_tts_message(std::string_view text);

}  // namespace voicebridge::elevenlabs
