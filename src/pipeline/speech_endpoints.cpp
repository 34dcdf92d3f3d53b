#include "pipeline/speech_endpoints.hpp"

namespace voicebridge::pipeline {

namespace {

speech_socket_settings socket_settings(const pipeline_settings& s, std::string name, std::string target) {
  speech_socket_settings out;
  out.name = std::move(name);
  out.address = net::parse_service_url(s.speech_base_url).value_or(net::service_address{});
  out.target = std::move(target);
  if (!s.api_key.empty()) out.headers.emplace_back("xi-api-key", s.api_key);
  out.tls = s.tls;
  out.connect_timeout = s.connect_timeout;
  out.idle_timeout = s.idle_timeout;
  out.max_queued = s.max_queued;
  out.reconnect_attempts = s.reconnect_attempts;
  return out;
}

// ElevenLabs API reference, "Realtime speech to text" (audio_format ulaw_8000, commit_strategy vad): Twilio's
// mu-law goes in as it is; the VAD decides when a turn is over.
std::string stt_target(const pipeline_settings& s) {
  std::string target = "/v1/speech-to-text/realtime?model_id=" + s.stt_model + "&audio_format=ulaw_8000&commit_strategy=vad";
  if (!s.language.empty()) target += "&language_code=" + s.language;
  return target;
}

// ElevenLabs API reference, "Multi-Context WebSocket" (output_format ulaw_8000, auto_mode): mu-law out for Twilio; auto_mode because we send whole phrases.
std::string tts_target(const pipeline_settings& s) {
  return "/v1/text-to-speech/" + s.voice_id + "/multi-stream-input?model_id=" + s.tts_model +
         "&output_format=ulaw_8000&auto_mode=true";
}

}  // namespace

speech_socket_settings stt_socket_settings(const pipeline_settings& s) { return socket_settings(s, "stt", stt_target(s)); }
speech_socket_settings tts_socket_settings(const pipeline_settings& s) { return socket_settings(s, "tts", tts_target(s)); }

}  // namespace voicebridge::pipeline
