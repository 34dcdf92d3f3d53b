#include "voicebridge/audio/speech.hpp"

#include <espeak-ng/espeak_ng.h>

#include <algorithm>
#include <mutex>

#include "voicebridge/audio/wav.hpp"

namespace voicebridge::audio {
namespace {

std::mutex espeak_mutex;
std::vector<std::int16_t>* espeak_sink = nullptr;  // the samples of the synthesis in progress

int collect_samples(short* samples, int count, espeak_EVENT*) {
  if (samples && count > 0) espeak_sink->insert(espeak_sink->end(), samples, samples + count);
  return 0;  // 0: continue
}

std::string status_message(espeak_ng_STATUS status) {
  char text[512] = {};
  espeak_ng_GetStatusCodeMessage(status, text, sizeof text);
  return text;
}

}  // namespace

util::result<std::vector<std::uint8_t>> synthesize_mulaw(const std::string& text, const std::string& language) {
  std::lock_guard lock(espeak_mutex);
  static const espeak_ng_STATUS initialized = [] {
    espeak_ng_InitializePath(nullptr);  // the packaged espeak-ng-data
    espeak_ng_STATUS status = espeak_ng_Initialize(nullptr);
    if (status == ENS_OK) status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, nullptr);
    if (status == ENS_OK) espeak_SetSynthCallback(collect_samples);
    return status;
  }();
  if (initialized != ENS_OK) return util::fail("espeak-ng could not start: " + status_message(initialized));
  if (auto status = espeak_ng_SetVoiceByName(language.c_str()); status != ENS_OK)
    return util::fail("espeak-ng has no voice for language '" + language + "': " + status_message(status));
  std::vector<std::int16_t> samples;
  espeak_sink = &samples;
  const auto status = espeak_ng_Synthesize(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                                           nullptr, nullptr);
  espeak_sink = nullptr;
  if (status != ENS_OK) return util::fail("espeak-ng failed: " + status_message(status));
  // espeak-ng pads with silence; a prompt that starts at once is heard sooner.
  auto audible = [](std::int16_t v) { return v > 64 || v < -64; };
  const auto first = std::find_if(samples.begin(), samples.end(), audible);
  const auto last = std::find_if(samples.rbegin(), samples.rend(), audible).base();
  if (first >= last) return util::fail("espeak-ng produced no audio for the text");
  samples = std::vector<std::int16_t>(first, last);
  pcm_audio speech{static_cast<unsigned>(espeak_ng_GetSampleRate()), 1, std::move(samples)};
  return to_mulaw_8k(speech);
}

}  // namespace voicebridge::audio
