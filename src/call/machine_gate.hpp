// The caller's side of an outbound call with machine detection, as its agent sees it: what the agent says
// passes through call/answering_machine.hpp's decisions (held until Twilio's verdict, released to a human,
// dropped for a machine) on its way to the Twilio stream. It listens for the call's verdict (call/amd_results)
// and keeps the AMD_TIMEOUT_MS timer; both end with the call.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include "call/agent.hpp"
#include "call/amd_results.hpp"
#include "call/answering_machine.hpp"
#include "call/call_route.hpp"

namespace voicebridge::call {

// The route's machine-detection settings (AMD_HOLD_GREETING, AMD_TIMEOUT_MS, its voicemail message).
amd_settings machine_detection_of(const call_route& route);

class machine_gate final : public caller_link {
 public:
  // `to_twilio`: the stream. `on_machine`: a machine or fax verdict: the call ends its agent and then
  // leaves the message (or just hangs up), on the call's executor.
  machine_gate(const boost::asio::any_io_executor& executor, caller_link& to_twilio, amd_settings settings,
               std::string call_sid, std::function<void()> on_machine);

  // Starts listening for the verdict and the timeout. `self` shares the call's lifetime (an aliasing pointer):
  // a verdict or timer that fires after the call has gone finds nothing.
  void start(amd_results& results, const std::weak_ptr<machine_gate>& self);
  void stop();

  bool machine() const { return state_.current() == answering_machine::phase::machine; }
  bool leaves_message() const { return machine() && leave_message_; }
  // Twilio's AnsweredBy, as it came (empty: none came): the record's answered_by.
  const std::string& answered_by() const { return answered_by_; }

  // caller_link
  void send_audio(std::string_view payload_base64) override;
  void send_mark(std::string name) override;
  void clear_audio() override;
  void hang_up() override;
  void transfer(const std::string& number) override;
  void said(std::string_view role, std::string_view text) override { to_twilio_.said(role, text); }

 private:
  void on_verdict(const std::string& raw);
  void carry_out(answering_machine::step step);

  boost::asio::any_io_executor executor_;
  caller_link& to_twilio_;
  answering_machine state_;
  std::string call_sid_;
  std::function<void()> on_machine_;
  boost::asio::steady_timer timeout_;
  amd_results::subscription listening_;
  std::string answered_by_;
  bool leave_message_ = false;
};

}  // namespace voicebridge::call
