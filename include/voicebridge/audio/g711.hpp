// ITU-T G.711 companding: mu-law (Twilio's audio/x-mulaw) and A-law (for WAV input).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace voicebridge::audio {

std::uint8_t mulaw_encode(std::int16_t sample);
std::int16_t mulaw_decode(std::uint8_t code);
std::uint8_t alaw_encode(std::int16_t sample);
std::int16_t alaw_decode(std::uint8_t code);

std::vector<std::uint8_t> mulaw_encode(std::span<const std::int16_t> samples);
std::vector<std::int16_t> mulaw_decode(std::span<const std::uint8_t> codes);

// One 20 ms frame at 8 kHz: the unit Twilio sends and the unit we pace outbound audio in.
inline constexpr std::size_t mulaw_frame_bytes = 160;
// Mu-law code for silence (linear 0).
inline constexpr std::uint8_t mulaw_silence = 0xFF;

}  // namespace voicebridge::audio
