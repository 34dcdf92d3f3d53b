// libFuzzer: ElevenLabs speech-to-text and text-to-speech server messages (ElevenLabs API reference: "Multi-Context WebSocket", "Realtime speech to text") as they
// arrive on pipeline mode's two sockets.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "voicebridge/elevenlabs/speech_messages.hpp"
#include "voicebridge/util/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto stt = voicebridge::elevenlabs::parse_stt_message(text);
  (void)stt;
  auto tts = voicebridge::elevenlabs::parse_tts_message(text);
  // Audio handed on to Twilio must be valid base64.
  if (tts && std::holds_alternative<voicebridge::elevenlabs::tts_audio>(*tts) &&
      !voicebridge::util::is_valid_base64(std::get<voicebridge::elevenlabs::tts_audio>(*tts).audio_base64))
    std::abort();
  return 0;
}
