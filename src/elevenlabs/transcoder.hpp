// Converts call audio for an agent left at PCM (pcm_16000 and friends) instead of ulaw_8000: mu-law 8 kHz
// <-> PCM16LE at the agent's rate, through streaming resamplers, base64 on both sides.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "voicebridge/audio/resampler.hpp"
#include "voicebridge/elevenlabs/agent_messages.hpp"

namespace voicebridge::elevenlabs {

class transcoder {
 public:
  transcoder(audio_format agent_input, audio_format agent_output);
  // Caller mu-law (base64) -> the agent's input format (base64).
  std::string to_agent(std::string_view mulaw_base64);
  // Agent audio (base64) -> caller mu-law (base64); empty when the chunk completes no sample yet.
  std::string to_caller(std::string_view agent_base64);

 private:
  audio_format input_, output_;
  std::optional<audio::resampler> up_, down_;
  std::optional<std::uint8_t> odd_byte_;  // a PCM sample split across two chunks
};

}  // namespace voicebridge::elevenlabs
