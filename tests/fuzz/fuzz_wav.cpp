// libFuzzer: the WAV reader used for operator-supplied prompts (any rate and format, converted at start).
#include <cstdint>
#include <span>

#include "voicebridge/audio/wav.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto wav = voicebridge::audio::parse_wav(std::span(data, size));
  if (!wav) return 0;
  // Conversion of whatever parsed must not fail either (bounded: the reader caps the sample count).
  if (wav->samples.size() < (1u << 20)) (void)voicebridge::audio::to_mulaw_8k(*wav);
  return 0;
}
