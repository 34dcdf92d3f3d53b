#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>

#include "voicebridge/audio/g711.hpp"
#include "voicebridge/audio/wav.hpp"

using namespace voicebridge::audio;

BOOST_AUTO_TEST_SUITE(wav)

BOOST_AUTO_TEST_CASE(pcm16_round_trip_with_canonical_header) {
  pcm_audio in{16000, 2, {0, 1, -1, 32767, -32768, 1234}};
  const auto bytes = serialize_wav(in);
  BOOST_TEST(bytes.size() == 44u + 12);
  BOOST_TEST(std::string(bytes.begin(), bytes.begin() + 4) == "RIFF");
  BOOST_TEST(bytes[4] == 36 + 12);  // RIFF size = file size - 8
  auto out = parse_wav(bytes);
  BOOST_TEST_REQUIRE(out.has_value());
  BOOST_TEST(out->sample_rate == 16000u);
  BOOST_TEST(out->channels == 2u);
  BOOST_TEST(out->samples == in.samples);
}

BOOST_AUTO_TEST_CASE(mulaw_wav_keeps_codes_bit_exact) {
  std::vector<std::uint8_t> codes{0x00, 0x7F, 0x80, 0xFF, 0x13};
  const auto bytes = serialize_mulaw_wav(codes);
  BOOST_TEST(bytes.size() % 2 == 0u);  // padded to even
  auto out = parse_wav(bytes);
  BOOST_TEST_REQUIRE(out.has_value());
  BOOST_TEST(out->sample_rate == 8000u);
  BOOST_TEST(out->samples.size() == codes.size());
  BOOST_TEST(out->samples[2] == mulaw_decode(std::uint8_t{0x80}));
  BOOST_TEST(std::vector<std::uint8_t>(bytes.end() - 6, bytes.end() - 1) == codes);
}

BOOST_AUTO_TEST_CASE(reads_8_24_32_bit_and_float) {
  auto make = [](std::uint16_t tag, std::uint16_t bits, std::vector<std::uint8_t> data) {
    std::vector<std::uint8_t> f{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 16, 0, 0, 0};
    auto put16 = [&](unsigned v) { f.push_back(v & 255); f.push_back((v >> 8) & 255); };
    auto put32 = [&](unsigned v) { put16(v & 0xFFFF); put16(v >> 16); };
    put16(tag); put16(1); put32(8000); put32(8000 * bits / 8); put16(bits / 8); put16(bits);
    f.insert(f.end(), {'d', 'a', 't', 'a'});
    put32(static_cast<unsigned>(data.size()));
    f.insert(f.end(), data.begin(), data.end());
    return f;
  };
  BOOST_TEST(parse_wav(make(1, 8, {0x80, 0xFF, 0x00}))->samples == (std::vector<std::int16_t>{0, 32512, -32768}));
  BOOST_TEST(parse_wav(make(1, 24, {0x00, 0x34, 0x12}))->samples == (std::vector<std::int16_t>{0x1234}));
  BOOST_TEST(parse_wav(make(1, 32, {0x00, 0x00, 0x00, 0x80}))->samples == (std::vector<std::int16_t>{-32768}));
  BOOST_TEST(parse_wav(make(3, 32, {0x00, 0x00, 0x00, 0x3f}))->samples == (std::vector<std::int16_t>{16384}));  // 0.5f
  BOOST_TEST(parse_wav(make(7, 8, {0xFF}))->samples == (std::vector<std::int16_t>{0}));
}

BOOST_AUTO_TEST_CASE(rejects_malformed_files_with_a_reason) {
  BOOST_TEST(parse_wav(std::vector<std::uint8_t>{'R', 'I', 'F', 'F'}).error().message == "not a RIFF/WAVE file");
  auto good = serialize_wav(pcm_audio{8000, 1, {1, 2, 3}});
  auto no_fmt = good;
  no_fmt[12] = 'x';
  BOOST_TEST(parse_wav(no_fmt).error().message == "data chunk comes before the fmt chunk");
  auto bad_rate = good;
  bad_rate[24] = bad_rate[25] = bad_rate[26] = bad_rate[27] = 0;
  BOOST_TEST(parse_wav(bad_rate).error().message == "unsupported sample rate 0");
  auto bad_tag = good;
  bad_tag[20] = 2;  // ADPCM
  BOOST_TEST(parse_wav(bad_tag).error().message == "unsupported WAV format tag 2");
  // Truncated data: whatever whole samples are there are read.
  good.resize(good.size() - 3);
  BOOST_TEST(parse_wav(good)->samples.size() == 1u);
}

BOOST_AUTO_TEST_CASE(converts_any_rate_and_channels_to_8k_mulaw) {
  pcm_audio stereo{44100, 2, {}};
  for (int i = 0; i < 44100; ++i) {
    const auto v = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440 * i / 44100.0));
    stereo.samples.push_back(v);
    stereo.samples.push_back(v);
  }
  const auto mulaw = to_mulaw_8k(stereo);
  BOOST_TEST(mulaw.size() == 8000u);
  const auto pcm = mulaw_decode(mulaw);
  double peak = 0;
  for (std::size_t i = 400; i < 7600; ++i) peak = std::max(peak, std::abs(double(pcm[i])));
  BOOST_TEST(peak > 7500);
  BOOST_TEST(peak < 8500);
}

BOOST_AUTO_TEST_CASE(reads_and_writes_files) {
  const auto path = std::filesystem::temp_directory_path() / "voicebridge_wav_test.wav";
  BOOST_TEST_REQUIRE(write_file(path, serialize_wav(pcm_audio{8000, 1, {5, 6}})).has_value());
  BOOST_TEST(read_wav_file(path)->samples == (std::vector<std::int16_t>{5, 6}));
  std::filesystem::remove(path);
  BOOST_TEST(read_wav_file(path).error().message.starts_with("cannot open"));
}

BOOST_AUTO_TEST_SUITE_END()
