// RIFF/WAVE codec. The reader takes untrusted files (it is fuzzed), so every length is checked
// against what is actually there.
#include "voicebridge/audio/wav.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>

#include "voicebridge/audio/g711.hpp"
#include "voicebridge/audio/resampler.hpp"

namespace voicebridge::audio {
namespace {

enum format_tag : std::uint16_t { tag_pcm = 1, tag_float = 3, tag_alaw = 6, tag_mulaw = 7, tag_extensible = 0xFFFE };

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v));
  put16(out, static_cast<std::uint16_t>(v >> 16));
}
void put_tag(std::vector<std::uint8_t>& out, const char (&tag)[5]) { out.insert(out.end(), tag, tag + 4); }

struct wav_format {
  std::uint16_t tag = 0;
  unsigned channels = 0;
  unsigned sample_rate = 0;
  unsigned block_align = 0;
  unsigned bits = 0;
};

std::int16_t clamp16(double v) { return static_cast<std::int16_t>(std::clamp(std::lround(v), -32768L, 32767L)); }

std::int16_t decode_sample(const wav_format& f, const std::uint8_t* p) {
  switch (f.tag) {
    case tag_mulaw: return mulaw_decode(p[0]);
    case tag_alaw: return alaw_decode(p[0]);
    case tag_float:
      if (f.bits == 32) return clamp16(std::bit_cast<float>(le32(p)) * 32767.0);
      return clamp16(std::bit_cast<double>(std::uint64_t(le32(p)) | (std::uint64_t(le32(p + 4)) << 32)) * 32767.0);
    default:  // integer PCM: 8-bit is unsigned, wider is signed little-endian; keep the top 16 bits
      switch (f.bits) {
        case 8: return static_cast<std::int16_t>((p[0] - 128) << 8);
        case 16: return static_cast<std::int16_t>(le16(p));
        case 24: return static_cast<std::int16_t>(le16(p + 1));
        default: return static_cast<std::int16_t>(le16(p + 2));
      }
  }
}

result<wav_format> parse_fmt(const std::uint8_t* p, std::uint32_t size) {
  if (size < 16) return util::fail("fmt chunk is shorter than 16 bytes");
  wav_format f{le16(p), le16(p + 2), le32(p + 4), le16(p + 12), le16(p + 14)};
  if (f.tag == tag_extensible) {
    if (size < 40) return util::fail("WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes");
    f.tag = le16(p + 24);  // the first two bytes of the SubFormat GUID are the format tag
  }
  if (f.channels < 1 || f.channels > 8) return util::fail("unsupported channel count " + std::to_string(f.channels));
  if (f.sample_rate < 1000 || f.sample_rate > 384000)
    return util::fail("unsupported sample rate " + std::to_string(f.sample_rate));
  bool bits_ok = false;
  switch (f.tag) {
    case tag_pcm: bits_ok = f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32; break;
    case tag_float: bits_ok = f.bits == 32 || f.bits == 64; break;
    case tag_mulaw:
    case tag_alaw: bits_ok = f.bits == 8; break;
    default: return util::fail("unsupported WAV format tag " + std::to_string(f.tag));
  }
  if (!bits_ok) return util::fail(std::to_string(f.bits) + " bits per sample is not valid for format tag " + std::to_string(f.tag));
  if (f.block_align != f.channels * f.bits / 8) return util::fail("block align does not match channels and bit depth");
  return f;
}

}  // namespace

result<pcm_audio> parse_wav(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), "RIFF", 4) != 0 || std::memcmp(bytes.data() + 8, "WAVE", 4) != 0)
    return util::fail("not a RIFF/WAVE file");
  std::optional<wav_format> format;
  std::size_t offset = 12;
  while (offset + 8 <= bytes.size()) {
    const std::uint8_t* header = bytes.data() + offset;
    const std::size_t available = bytes.size() - offset - 8;
    std::size_t size = le32(header + 4);
    if (std::memcmp(header, "fmt ", 4) == 0) {
      if (size > available) return util::fail("fmt chunk runs past the end of the file");
      auto parsed = parse_fmt(header + 8, static_cast<std::uint32_t>(size));
      if (!parsed) return parsed.error();
      format = *parsed;
    } else if (std::memcmp(header, "data", 4) == 0) {
      if (!format) return util::fail("data chunk comes before the fmt chunk");
      // Streaming writers leave the size at 0 or 0xFFFFFFFF; take what is there, in whole frames.
      if (size > available || size == 0) size = available;
      size -= size % format->block_align;
      pcm_audio audio{format->sample_rate, format->channels, {}};
      const unsigned sample_bytes = format->bits / 8;
      audio.samples.reserve(size / sample_bytes);
      for (std::size_t i = 0; i < size; i += sample_bytes)
        audio.samples.push_back(decode_sample(*format, header + 8 + i));
      return audio;
    }
    if (size > available) break;
    offset += 8 + size + (size & 1);
  }
  return util::fail(format ? "no data chunk" : "no fmt chunk");
}

result<pcm_audio> read_wav_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::fail("cannot open " + path.string());
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto audio = parse_wav(bytes);
  if (!audio) return util::fail(path.string() + ": " + audio.error().message);
  return audio;
}

std::vector<std::uint8_t> wav_header(wav_encoding encoding, unsigned sample_rate, unsigned channels,
                                     std::uint32_t data_size) {
  const bool pcm = encoding == wav_encoding::pcm16;
  const unsigned bytes_per_sample = pcm ? 2 : 1;
  const std::uint32_t fmt_size = pcm ? 16 : 18;  // non-PCM formats carry cbSize
  const std::uint32_t fact_size = pcm ? 0 : 12;  // and a fact chunk with the frame count
  std::vector<std::uint8_t> out;
  out.reserve(12 + 8 + fmt_size + fact_size + 8);
  put_tag(out, "RIFF");
  put32(out, 4 + (8 + fmt_size) + fact_size + (8 + data_size + (data_size & 1)));
  put_tag(out, "WAVE");
  put_tag(out, "fmt ");
  put32(out, fmt_size);
  put16(out, pcm ? tag_pcm : tag_mulaw);
  put16(out, static_cast<std::uint16_t>(channels));
  put32(out, sample_rate);
  put32(out, sample_rate * channels * bytes_per_sample);
  put16(out, static_cast<std::uint16_t>(channels * bytes_per_sample));
  put16(out, static_cast<std::uint16_t>(bytes_per_sample * 8));
  if (!pcm) {
    put16(out, 0);
    put_tag(out, "fact");
    put32(out, 4);
    put32(out, data_size / bytes_per_sample / channels);
  }
  put_tag(out, "data");
  put32(out, data_size);
  return out;
}

std::vector<std::uint8_t> serialize_wav(const pcm_audio& audio, wav_encoding encoding) {
  if (encoding == wav_encoding::mulaw) return serialize_mulaw_wav(mulaw_encode(audio.samples), audio.sample_rate, audio.channels);
  const auto data_size = static_cast<std::uint32_t>(audio.samples.size() * 2);
  auto out = wav_header(encoding, audio.sample_rate, audio.channels, data_size);
  out.reserve(out.size() + data_size);
  for (std::int16_t s : audio.samples) put16(out, static_cast<std::uint16_t>(s));
  return out;
}

std::vector<std::uint8_t> serialize_mulaw_wav(std::span<const std::uint8_t> mulaw, unsigned sample_rate,
                                              unsigned channels) {
  const auto data_size = static_cast<std::uint32_t>(mulaw.size());
  auto out = wav_header(wav_encoding::mulaw, sample_rate, channels, data_size);
  out.insert(out.end(), mulaw.begin(), mulaw.end());
  if (data_size & 1) out.push_back(0);  // RIFF chunks are padded to an even size
  return out;
}

result<void> write_file(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return util::fail("cannot write " + path.string());
  return {};
}

pcm_audio to_mono(const pcm_audio& audio) {
  if (audio.channels <= 1) return audio;
  pcm_audio mono{audio.sample_rate, 1, {}};
  mono.samples.reserve(audio.samples.size() / audio.channels);
  for (std::size_t i = 0; i + audio.channels <= audio.samples.size(); i += audio.channels) {
    long sum = 0;
    for (unsigned c = 0; c < audio.channels; ++c) sum += audio.samples[i + c];
    mono.samples.push_back(static_cast<std::int16_t>(sum / static_cast<long>(audio.channels)));
  }
  return mono;
}

std::vector<std::uint8_t> to_mulaw_8k(const pcm_audio& audio) {
  const pcm_audio mono = to_mono(audio);
  return mulaw_encode(resample(mono.samples, mono.sample_rate, 8000));
}

}  // namespace voicebridge::audio
