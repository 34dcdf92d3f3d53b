// Streaming sample-rate converter: Kaiser-windowed sinc with a cutoff below the lower Nyquist rate,
// so downsampling filters out what would alias instead of dropping samples.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace voicebridge::audio {

class resampler {
 public:
  resampler(unsigned input_rate, unsigned output_rate);

  // Appends the output that `input` (a continuation of earlier input) makes computable.
  void process(std::span<const std::int16_t> input, std::vector<std::int16_t>& output);
  // Appends the remaining output, treating the signal after the last input as silence.
  void flush(std::vector<std::int16_t>& output);

  unsigned input_rate() const { return input_rate_; }
  unsigned output_rate() const { return output_rate_; }

 private:
  void produce(std::vector<std::int16_t>& output, std::size_t available_end, unsigned long long output_limit);

  unsigned input_rate_;
  unsigned output_rate_;
  int half_width_;                // kernel half-width, in input samples
  int phases_;                    // rows of the coefficient table
  std::vector<float> table_;      // (phases_ + 1) rows of 2 * half_width_ taps
  std::vector<float> history_;    // input samples still needed, preceded by half_width_ zeros at the start
  std::size_t position_ = 0;      // index in history_ of the input sample at or before the next output time
  unsigned long long fraction_ = 0;  // next output time past position_, in units of 1/output_rate
  unsigned long long input_total_ = 0;
  unsigned long long output_total_ = 0;
};

// Whole-buffer conversion of mono audio.
std::vector<std::int16_t> resample(std::span<const std::int16_t> input, unsigned input_rate, unsigned output_rate);

}  // namespace voicebridge::audio
