// The embedded echo agent (LOCAL_AGENT=echo, for tests and latency checks without a cloud account): greets
// with a tone or a WAV, then echoes the caller's audio back.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "call/agent.hpp"
#include "call/limit_log.hpp"
#include "voicebridge/util/message_queue.hpp"

namespace voicebridge::call {

class local_agent final : public agent {
 public:
  local_agent(const boost::asio::any_io_executor& executor, caller_link& caller,
              std::shared_ptr<const std::vector<std::uint8_t>> greeting_mulaw, std::string call_sid);

  void on_caller_audio(std::string_view payload_base64) override;
  void on_dtmf(char digit) override;
  void on_mark(std::string_view name) override;
  void on_caller_hangup() override;
  boost::asio::awaitable<agent_end> run() override;

  static constexpr std::size_t max_echo_frames = 1000;  // 20 s of caller audio held while greeting

 private:
  boost::asio::any_io_executor executor_;
  caller_link& caller_;
  std::shared_ptr<const std::vector<std::uint8_t>> greeting_;
  std::string call_sid_;
  util::message_queue<std::string> echo_;
  limit_log limits_;
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  bool hung_up_ = false;
};

}  // namespace voicebridge::call
