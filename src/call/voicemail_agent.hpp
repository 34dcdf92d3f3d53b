// The answer when no agent can: a prompt (the fallback prompt, or the local demo's greeting), a tone, then
// the caller's message recorded bit-exact into a mu-law WAV until the caller hangs up, stays silent for
// a while, or reaches the maximum length.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "call/agent.hpp"
#include "call/recording.hpp"

namespace voicebridge::call {

struct voicemail_settings {
  std::shared_ptr<const std::vector<std::uint8_t>> prompt;  // 8 kHz mu-law
  std::shared_ptr<const std::vector<std::uint8_t>> tone;
  std::filesystem::path directory;
  boost::asio::thread_pool* disk = nullptr;  // where the message is written (one thread)
  std::chrono::seconds max_length{120};
  std::chrono::milliseconds silence_timeout{5000};  // 0: only hang-up and max length end it
};

class voicemail_agent final : public agent {
 public:
  voicemail_agent(const boost::asio::any_io_executor& executor, caller_link& caller, const voicemail_settings& settings,
                  std::string call_sid);

  void on_caller_audio(std::string_view payload_base64) override;
  void on_dtmf(char) override {}
  void on_mark(std::string_view) override {}
  void on_caller_hangup() override;
  boost::asio::awaitable<agent_end> run() override;
  void describe(records::call_record& record) const override;

  // Below this mean absolute level (of 32767) a frame counts as silence: about -36 dBFS, under line noise.
  static constexpr int silence_level = 500;

 private:
  void end_message();

  boost::asio::any_io_executor executor_;
  caller_link& caller_;
  const voicemail_settings& settings_;
  std::string call_sid_;
  boost::asio::steady_timer done_;
  std::unique_ptr<wav_writer> message_;  // open from the end of the tone to the end of the message
  std::chrono::milliseconds silent_for_{0};
  bool hung_up_ = false;
  bool ended_ = false;
};

}  // namespace voicebridge::call
