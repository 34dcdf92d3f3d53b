#include "elevenlabs/transcoder.hpp"

#include "voicebridge/audio/g711.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::elevenlabs {

transcoder::transcoder(audio_format agent_input, audio_format agent_output) : input_(agent_input), output_(agent_output) {
  if (input_.encoding == audio_format::kind::pcm && input_.sample_rate != 8000) up_.emplace(8000, input_.sample_rate);
  if (output_.encoding == audio_format::kind::pcm && output_.sample_rate != 8000) down_.emplace(output_.sample_rate, 8000);
}

std::string transcoder::to_agent(std::string_view mulaw_base64) {
  if (input_.is_twilio_native()) return std::string(mulaw_base64);
  const auto mulaw = util::base64_decode(mulaw_base64).value_or(std::vector<std::uint8_t>{});
  auto pcm = audio::mulaw_decode(mulaw);
  std::vector<std::int16_t> resampled;
  if (up_) up_->process(pcm, resampled);
  const auto& samples = up_ ? resampled : pcm;
  std::vector<std::uint8_t> bytes;
  bytes.reserve(samples.size() * 2);
  for (std::int16_t s : samples) {
    bytes.push_back(static_cast<std::uint8_t>(s & 0xFF));
    bytes.push_back(static_cast<std::uint8_t>((s >> 8) & 0xFF));
  }
  return util::base64_encode(bytes);
}

std::string transcoder::to_caller(std::string_view agent_base64) {
  if (output_.is_twilio_native()) return std::string(agent_base64);
  auto bytes = util::base64_decode(agent_base64).value_or(std::vector<std::uint8_t>{});
  if (odd_byte_) {
    bytes.insert(bytes.begin(), *odd_byte_);
    odd_byte_.reset();
  }
  if (bytes.size() % 2) {
    odd_byte_ = bytes.back();
    bytes.pop_back();
  }
  std::vector<std::int16_t> pcm(bytes.size() / 2);
  for (std::size_t i = 0; i < pcm.size(); ++i)
    pcm[i] = static_cast<std::int16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  std::vector<std::int16_t> resampled;
  if (down_) down_->process(pcm, resampled);
  const auto mulaw = audio::mulaw_encode(down_ ? resampled : pcm);
  return mulaw.empty() ? std::string() : util::base64_encode(mulaw);
}

}  // namespace voicebridge::elevenlabs
