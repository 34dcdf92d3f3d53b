// G.711 after the ITU reference (Sun's g711.c): segment search on the biased magnitude.
#include "voicebridge/audio/g711.hpp"

#include <array>

namespace voicebridge::audio {
namespace {

constexpr int mulaw_bias = 0x84;
constexpr int mulaw_clip = 32635;

// Number of the segment (0..7) a biased magnitude falls into: position of its highest bit above bit 7.
int segment_of(int magnitude) {
  int segment = 0;
  for (int v = magnitude >> 8; v != 0 && segment < 7; v >>= 1) ++segment;
  return segment;
}

constexpr std::array<std::int16_t, 256> make_mulaw_table() {
  std::array<std::int16_t, 256> table{};
  for (int i = 0; i < 256; ++i) {
    const int code = ~i & 0xFF;
    const int segment = (code >> 4) & 7;
    const int magnitude = (((code & 0x0F) << 3) + mulaw_bias) << segment;
    table[i] = static_cast<std::int16_t>((code & 0x80) ? (mulaw_bias - magnitude) : (magnitude - mulaw_bias));
  }
  return table;
}
constexpr auto mulaw_table = make_mulaw_table();

}  // namespace

std::uint8_t mulaw_encode(std::int16_t sample) {
  int value = sample;
  int sign = 0;
  if (value < 0) {
    value = -value;
    sign = 0x80;
  }
  if (value > mulaw_clip) value = mulaw_clip;
  value += mulaw_bias;
  const int segment = segment_of(value);
  const int mantissa = (value >> (segment + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (segment << 4) | mantissa));
}

std::int16_t mulaw_decode(std::uint8_t code) { return mulaw_table[code]; }

std::uint8_t alaw_encode(std::int16_t sample) {
  int value = sample >> 3;  // A-law works on 13-bit magnitudes
  int mask = 0xD5;
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  int segment = 0;
  for (int v = value >> 5; v != 0 && segment < 8; v >>= 1) ++segment;
  if (segment >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  const int mantissa = segment < 2 ? (value >> 1) & 0x0F : (value >> segment) & 0x0F;
  return static_cast<std::uint8_t>(((segment << 4) | mantissa) ^ mask);
}

std::int16_t alaw_decode(std::uint8_t code) {
  const int value = code ^ 0x55;
  int magnitude = (value & 0x0F) << 4;
  const int segment = (value & 0x70) >> 4;
  if (segment == 0)
    magnitude += 8;
  else if (segment == 1)
    magnitude += 0x108;
  else
    magnitude = (magnitude + 0x108) << (segment - 1);
  return static_cast<std::int16_t>((value & 0x80) ? magnitude : -magnitude);
}

std::vector<std::uint8_t> mulaw_encode(std::span<const std::int16_t> samples) {
  std::vector<std::uint8_t> out(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) out[i] = mulaw_encode(samples[i]);
  return out;
}

std::vector<std::int16_t> mulaw_decode(std::span<const std::uint8_t> codes) {
  std::vector<std::int16_t> out(codes.size());
  for (std::size_t i = 0; i < codes.size(); ++i) out[i] = mulaw_decode(codes[i]);
  return out;
}

}  // namespace voicebridge::audio
