// WAV (RIFF/WAVE) reading and writing: PCM 8/16/24/32-bit, IEEE float, mu-law and A-law in; PCM16 or mu-law out.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "voicebridge/util/result.hpp"

namespace voicebridge::audio {

// Decoded audio, interleaved when channels > 1.
struct pcm_audio {
  unsigned sample_rate = 8000;
  unsigned channels = 1;
  std::vector<std::int16_t> samples;
};

enum class wav_encoding { pcm16, mulaw };

using util::result;

// Parses a whole WAV file held in memory. Errors name what is wrong with the file.
result<pcm_audio> parse_wav(std::span<const std::uint8_t> bytes);
result<pcm_audio> read_wav_file(const std::filesystem::path& path);

std::vector<std::uint8_t> serialize_wav(const pcm_audio& audio, wav_encoding encoding = wav_encoding::pcm16);
// Raw mu-law bytes as a mu-law WAV (format 7), so call audio is stored bit-exact.
std::vector<std::uint8_t> serialize_mulaw_wav(std::span<const std::uint8_t> mulaw, unsigned sample_rate = 8000,
                                              unsigned channels = 1);
// The header of a WAV whose data chunk holds `data_size` bytes (for writers that stream the data).
std::vector<std::uint8_t> wav_header(wav_encoding encoding, unsigned sample_rate, unsigned channels,
                                     std::uint32_t data_size);
result<void> write_file(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

// Mixes to mono by averaging channels.
pcm_audio to_mono(const pcm_audio& audio);
// Any WAV content -> 8 kHz mono mu-law, the format of a Twilio media stream.
std::vector<std::uint8_t> to_mulaw_8k(const pcm_audio& audio);

}  // namespace voicebridge::audio
