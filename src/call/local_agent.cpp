#include "call/local_agent.hpp"

#include "call/playback.hpp"
#include "util/recycled_text.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;
using app::log;
using app::log_level;

local_agent::local_agent(const asio::any_io_executor& executor, caller_link& caller,
                         std::shared_ptr<const std::vector<std::uint8_t>> greeting_mulaw, std::string call_sid)
    : executor_(executor),
      caller_(caller),
      greeting_(std::move(greeting_mulaw)),
      call_sid_(std::move(call_sid)),
      echo_(executor, max_echo_frames) {}

void local_agent::on_caller_audio(std::string_view payload_base64) {
  std::string payload = util::recycled_text();
  payload.assign(payload_base64);
  if (!echo_.push(std::move(payload)) && !echo_.closed()) limits_.hit("agent_buffer", call_sid_);
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

asio::awaitable<agent_end> local_agent::run() {
  app::metrics().first_agent_audio_seconds.observe(std::chrono::steady_clock::now() - created_);
  const std::span<const std::uint8_t> greeting(*greeting_);  // named (GCC 12: docs/gcc12-coroutines.md)
  co_await play_paced(executor_, caller_, greeting, hung_up_);
  if (!hung_up_) caller_.send_mark("greeting-end");
  // Echo: everything the caller said, in order, including what arrived during the greeting.
  while (auto payload = co_await echo_.pop()) {
    caller_.send_audio(*payload);
    util::recycle_text(std::move(*payload));
  }
  co_return agent_end::served;
}

}  // namespace voicebridge::call
