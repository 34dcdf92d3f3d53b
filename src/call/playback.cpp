#include "call/playback.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cmath>
#include <numbers>

#include "voicebridge/audio/g711.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;

namespace {
struct tone_builder {
  std::vector<std::int16_t> pcm;
  void tone(double hz, int ms) {
    const int n = 8 * ms;
    for (int i = 0; i < n; ++i) {
      const double fade = std::min({1.0, i / 80.0, (n - i) / 80.0});  // 10 ms ramps: no clicks
      pcm.push_back(static_cast<std::int16_t>(9000 * fade * std::sin(2 * std::numbers::pi * hz * i / 8000.0)));
    }
  }
  void silence(int ms) { pcm.insert(pcm.end(), static_cast<std::size_t>(8 * ms), 0); }
};
}  // namespace

asio::awaitable<void> play_paced(const asio::any_io_executor& executor, caller_link& caller,
                                 std::span<const std::uint8_t> mulaw, const bool& stop) {
  asio::steady_timer pace(executor);
  auto next = std::chrono::steady_clock::now();
  for (std::size_t offset = 0; offset < mulaw.size() && !stop; offset += audio::mulaw_frame_bytes) {
    const std::size_t n = std::min(audio::mulaw_frame_bytes, mulaw.size() - offset);
    caller.send_audio(util::base64_encode(mulaw.subspan(offset, n)));
    next += std::chrono::milliseconds(20);
    pace.expires_at(next);
    co_await pace.async_wait(asio::use_awaitable);
  }
}

std::vector<std::uint8_t> make_greeting_tone() {
  tone_builder b;
  b.tone(440, 300);
  b.silence(100);
  b.tone(660, 300);
  b.silence(100);
  return audio::mulaw_encode(b.pcm);
}

std::vector<std::uint8_t> make_voicemail_tone() {
  tone_builder b;
  b.silence(200);
  b.tone(1000, 400);
  return audio::mulaw_encode(b.pcm);
}

}  // namespace voicebridge::call
