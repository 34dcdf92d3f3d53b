#include "call/local_agent.hpp"

#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <numbers>

#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;
using app::log;
using app::log_level;

std::vector<std::uint8_t> make_greeting_tone() {
  std::vector<std::int16_t> pcm;
  auto tone = [&](double hz, int ms) {
    const int n = 8 * ms;
    for (int i = 0; i < n; ++i) {
      const double fade = std::min({1.0, i / 80.0, (n - i) / 80.0});  // 10 ms ramps: no clicks
      pcm.push_back(static_cast<std::int16_t>(9000 * fade * std::sin(2 * std::numbers::pi * hz * i / 8000.0)));
    }
  };
  auto silence = [&](int ms) { pcm.insert(pcm.end(), static_cast<std::size_t>(8 * ms), 0); };
  tone(440, 300);
  silence(100);
  tone(660, 300);
  silence(100);
  return audio::mulaw_encode(pcm);
}

local_agent::local_agent(const asio::any_io_executor& executor, caller_link& caller,
                         std::shared_ptr<const std::vector<std::uint8_t>> greeting_mulaw, std::string call_sid)
    : executor_(executor),
      caller_(caller),
      greeting_(std::move(greeting_mulaw)),
      call_sid_(std::move(call_sid)),
      echo_(executor, max_echo_frames) {}

void local_agent::on_caller_audio(const twilio::media_message& media) {
  if (!echo_.push(media.payload) && !echo_.closed()) limits_.hit("agent_buffer", call_sid_);
}

void local_agent::on_dtmf(char digit) {
  log(log_level::info, "dtmf", {{"call_sid", call_sid_}, {"digit", std::string(1, digit)}});
}

void local_agent::on_mark(std::string_view name) {
  log(log_level::debug, "mark played", {{"call_sid", call_sid_}, {"name", name}});
}

void local_agent::on_caller_hangup() {
  hung_up_ = true;
  echo_.close();
}

asio::awaitable<bool> local_agent::run() {
  // Greeting: one 160-byte frame every 20 ms on an absolute schedule, so timer jitter does not accumulate.
  asio::steady_timer pace(executor_);
  auto next = std::chrono::steady_clock::now();
  const auto& greeting = *greeting_;
  app::metrics().first_agent_audio_seconds.observe(std::chrono::steady_clock::now() - created_);
  for (std::size_t offset = 0; offset < greeting.size() && !hung_up_; offset += audio::mulaw_frame_bytes) {
    const std::size_t n = std::min(audio::mulaw_frame_bytes, greeting.size() - offset);
    caller_.send_audio(util::base64_encode(std::span(greeting).subspan(offset, n)));
    next += std::chrono::milliseconds(20);
    pace.expires_at(next);
    co_await pace.async_wait(asio::use_awaitable);
  }
  if (!hung_up_) caller_.send_mark("greeting-end");
  // Echo: everything the caller said, in order, including what arrived during the greeting.
  while (auto payload = co_await echo_.pop()) caller_.send_audio(std::move(*payload));
  co_return true;
}

}  // namespace voicebridge::call
