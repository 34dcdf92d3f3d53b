#include "voicebridge/audio/resampler.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace voicebridge::audio {
namespace {

constexpr int zero_crossings = 16;  // kernel lobes on each side, at the cutoff frequency
constexpr double rolloff = 0.90;    // cutoff as a fraction of the lower Nyquist frequency
constexpr double kaiser_beta = 8.6;  // ~ -85 dB stop band
constexpr int table_phases = 256;

double sinc(double x) {
  if (std::abs(x) < 1e-9) return 1.0;
  return std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
}

double kaiser(double x) {  // x in [-1, 1]
  if (std::abs(x) > 1.0) return 0.0;
  return std::cyl_bessel_i(0.0, kaiser_beta * std::sqrt(1.0 - x * x)) / std::cyl_bessel_i(0.0, kaiser_beta);
}

}  // namespace

resampler::resampler(unsigned input_rate, unsigned output_rate)
    : input_rate_(input_rate), output_rate_(output_rate), phases_(table_phases) {
  if (input_rate == 0 || output_rate == 0 || input_rate > 384000 || output_rate > 384000)
    throw std::invalid_argument("resampler: sample rates must be between 1 and 384000 Hz");
  const double cutoff = rolloff * std::min(1.0, double(output_rate) / double(input_rate));
  half_width_ = static_cast<int>(std::ceil(zero_crossings / cutoff));
  const int taps = 2 * half_width_;
  table_.resize(static_cast<std::size_t>(phases_ + 1) * taps);
  for (int p = 0; p <= phases_; ++p) {
    const double frac = double(p) / phases_;
    float* row = &table_[static_cast<std::size_t>(p) * taps];
    double sum = 0;
    for (int j = 0; j < taps; ++j) {
      const double d = frac - double(j - half_width_ + 1);  // output time minus input sample time
      const double c = cutoff * sinc(cutoff * d) * kaiser(d / half_width_);
      row[j] = static_cast<float>(c);
      sum += c;
    }
    for (int j = 0; j < taps; ++j) row[j] = static_cast<float>(row[j] / sum);  // unity gain at DC
  }
  history_.assign(static_cast<std::size_t>(half_width_), 0.0f);
  position_ = static_cast<std::size_t>(half_width_);
}

void resampler::process(std::span<const std::int16_t> input, std::vector<std::int16_t>& output) {
  history_.insert(history_.end(), input.begin(), input.end());
  input_total_ += input.size();
  produce(output, history_.size(), ~0ULL);
}

void resampler::flush(std::vector<std::int16_t>& output) {
  // Outputs exist for every output time before the end of the input: ceil(inputs * out / in) in all.
  const unsigned long long expected = (input_total_ * output_rate_ + input_rate_ - 1) / input_rate_;
  history_.insert(history_.end(), static_cast<std::size_t>(half_width_) + 1, 0.0f);
  produce(output, history_.size(), expected);
}

void resampler::produce(std::vector<std::int16_t>& output, std::size_t available_end,
                        unsigned long long output_limit) {
  const int taps = 2 * half_width_;
  while (position_ + static_cast<std::size_t>(half_width_) < available_end && output_total_ < output_limit) {
    const double phase = double(fraction_) / output_rate_ * phases_;
    const int p0 = std::min(static_cast<int>(phase), phases_ - 1);
    const float w1 = static_cast<float>(phase - p0);
    const float* row0 = &table_[static_cast<std::size_t>(p0) * taps];
    const float* row1 = row0 + taps;
    const float* x = &history_[position_ + 1 - static_cast<std::size_t>(half_width_)];
    float acc = 0.0f;
    for (int j = 0; j < taps; ++j) acc += x[j] * (row0[j] + w1 * (row1[j] - row0[j]));
    output.push_back(static_cast<std::int16_t>(std::clamp(std::lround(acc), -32768L, 32767L)));
    ++output_total_;
    fraction_ += input_rate_;
    position_ += fraction_ / output_rate_;
    fraction_ %= output_rate_;
  }
  // Drop input no future output needs, in large steps so the erase cost is amortised.
  const std::size_t needed_from = position_ + 1 - static_cast<std::size_t>(half_width_);
  if (needed_from > 4096) {
    history_.erase(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(needed_from));
    position_ -= needed_from;
  }
}

std::vector<std::int16_t> resample(std::span<const std::int16_t> input, unsigned input_rate, unsigned output_rate) {
  if (input_rate == output_rate) return {input.begin(), input.end()};
  resampler r(input_rate, output_rate);
  std::vector<std::int16_t> out;
  out.reserve(static_cast<std::size_t>(input.size() * double(output_rate) / input_rate) + 1);
  r.process(input, out);
  r.flush(out);
  return out;
}

}  // namespace voicebridge::audio
