#include <boost/test/unit_test.hpp>
#include <cmath>

#include "voicebridge/audio/resampler.hpp"

using namespace voicebridge::audio;

namespace {

std::vector<std::int16_t> sine(double hz, unsigned rate, std::size_t n, double amplitude = 10000) {
  std::vector<std::int16_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int16_t>(amplitude * std::sin(2 * M_PI * hz * i / rate));
  return out;
}

// Amplitude of `hz` in `x` (single-bin DFT), skipping the edges where the filter warms up.
double amplitude_at(const std::vector<std::int16_t>& x, double hz, unsigned rate) {
  double re = 0, im = 0;
  const std::size_t begin = x.size() / 10, end = x.size() - x.size() / 10;
  for (std::size_t i = begin; i < end; ++i) {
    re += x[i] * std::cos(2 * M_PI * hz * i / rate);
    im += x[i] * std::sin(2 * M_PI * hz * i / rate);
  }
  return 2 * std::hypot(re, im) / double(end - begin);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resampler)

BOOST_AUTO_TEST_CASE(output_length_matches_ratio) {
  for (auto [in, out] : {std::pair{16000u, 8000u}, {8000u, 16000u}, {44100u, 8000u}, {8000u, 24000u}, {22050u, 8000u}}) {
    const auto y = resample(std::vector<std::int16_t>(in, 0), in, out);
    BOOST_TEST(y.size() == out, in << "->" << out);
  }
}

BOOST_AUTO_TEST_CASE(passes_in_band_tones_at_unity_gain) {
  const auto y = resample(sine(1000, 16000, 16000), 16000, 8000);
  BOOST_TEST(std::abs(amplitude_at(y, 1000, 8000) - 10000) < 150);
  const auto up = resample(sine(1000, 8000, 8000), 8000, 16000);
  BOOST_TEST(std::abs(amplitude_at(up, 1000, 16000) - 10000) < 150);
}

BOOST_AUTO_TEST_CASE(filters_what_would_alias_instead_of_dropping_samples) {
  // 6 kHz at 16 kHz would fold to 2 kHz if every other sample were dropped.
  const auto y = resample(sine(6000, 16000, 16000), 16000, 8000);
  BOOST_TEST(amplitude_at(y, 2000, 8000) < 10);  // > 60 dB down
}

BOOST_AUTO_TEST_CASE(streaming_in_pieces_equals_one_shot) {
  const auto x = sine(440, 8000, 4000);
  const auto whole = resample(x, 8000, 16000);
  voicebridge::audio::resampler r(8000, 16000);
  std::vector<std::int16_t> pieces;
  for (std::size_t i = 0; i < x.size(); i += 160) r.process(std::span(x).subspan(i, std::min<std::size_t>(160, x.size() - i)), pieces);
  r.flush(pieces);
  BOOST_TEST(pieces == whole);
}

BOOST_AUTO_TEST_CASE(rejects_invalid_rates) { BOOST_CHECK_THROW(voicebridge::audio::resampler(0, 8000), std::invalid_argument); }

BOOST_AUTO_TEST_SUITE_END()
