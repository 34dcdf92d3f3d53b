// What an answering machine gets once its greeting (and beep) is over: the route's voicemail message, then the
// hang-up; a fax, or a route without a message, gets the hang-up alone. It takes the call's place of agent
// after call/machine_gate.hpp ended the agent.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "call/agent.hpp"

namespace voicebridge::call {

class machine_message_agent final : public agent {
 public:
  // `message`: 8 kHz mu-law; nullptr: hang up at once.
  machine_message_agent(const boost::asio::any_io_executor& executor, caller_link& caller,
                        std::shared_ptr<const std::vector<std::uint8_t>> message);

  void on_caller_audio(std::string_view) override {}
  void on_dtmf(char) override {}
  void on_mark(std::string_view name) override;
  void on_caller_hangup() override;
  boost::asio::awaitable<agent_end> run() override;
  void describe(records::call_record& record) const override;

  // How long the end of the message may take to be played back after its last frame was sent.
  static constexpr std::chrono::seconds played_cap{3};

 private:
  boost::asio::any_io_executor executor_;
  caller_link& caller_;
  std::shared_ptr<const std::vector<std::uint8_t>> message_;
  boost::asio::steady_timer played_;
  bool hung_up_ = false;
  bool heard_to_the_end_ = false;
};

}  // namespace voicebridge::call
