#include "call/machine_gate.hpp"

#include <boost/asio/post.hpp>

#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;
using app::log;
using app::log_level;

amd_settings machine_detection_of(const call_route& route) {
  amd_settings s;
  s.hold_greeting = route.settings.amd_hold_greeting;
  s.timeout = route.settings.amd_timeout;
  s.have_message = route.machine_message != nullptr;
  return s;
}

machine_gate::machine_gate(const asio::any_io_executor& executor, caller_link& to_twilio, amd_settings settings,
                           std::string call_sid, std::function<void()> on_machine)
    : executor_(executor),
      to_twilio_(to_twilio),
      state_(settings),
      call_sid_(std::move(call_sid)),
      on_machine_(std::move(on_machine)),
      timeout_(executor) {}

void machine_gate::start(amd_results& results, const std::weak_ptr<machine_gate>& self) {
  timeout_.expires_after(state_.settings().timeout);
  timeout_.async_wait([self](const boost::system::error_code& ec) {
    if (ec) return;  // stopped: a verdict came, or the call ended
    auto gate = self.lock();
    if (!gate) return;
    const auto step = gate->state_.on_timeout();
    if (step.what == answering_machine::step::kind::nothing) return;
    app::metrics().amd_results.inc("timeout");
    log(log_level::info, "no answering-machine verdict in time: the agent speaks",
        {{"call_sid", gate->call_sid_}, {"timeout_ms", gate->state_.settings().timeout.count()}});
    gate->carry_out(step);
  });
  // The webhook's thread hands the verdict to the call's executor.
  listening_ = results.listen(call_sid_, [self, executor = executor_](const std::string& raw) {
    asio::post(executor, [self, raw] {
      if (auto gate = self.lock()) gate->on_verdict(raw);
    });
  });
}

void machine_gate::stop() {
  listening_.reset();
  timeout_.cancel();
}

void machine_gate::on_verdict(const std::string& raw) {
  const auto who = parse_answered_by(raw);
  if (!who) return;  // the webhook answers 400 to anything else; nothing unknown gets this far
  answered_by_ = raw;
  const bool in_time = state_.current() == answering_machine::phase::listening;
  auto step = state_.on_result(*who, raw);
  log(log_level::info, "answering-machine verdict",
      {{"call_sid", call_sid_}, {"answered_by", raw}, {"in_time", in_time ? "true" : "false"},
       {"held_dropped_bytes", state_.dropped_bytes()}});
  if (step.what != answering_machine::step::kind::nothing) timeout_.cancel();
  carry_out(std::move(step));
}

void machine_gate::carry_out(answering_machine::step step) {
  using kind = answering_machine::step::kind;
  switch (step.what) {
    case kind::nothing:
      return;
    case kind::release:
      for (auto& out : step.released) {
        if (out.what == held_output::kind::audio) to_twilio_.send_audio(out.text);
        else to_twilio_.send_mark(std::move(out.text));
      }
      return;
    case kind::leave_message:
    case kind::hang_up:
      leave_message_ = step.what == kind::leave_message;
      if (step.clear_twilio) to_twilio_.clear_audio();  // the agent's words would come before the message
      on_machine_();
      return;
  }
}

void machine_gate::send_audio(std::string_view payload) {
  if (state_.on_agent_audio(payload) == answering_machine::pass::now) to_twilio_.send_audio(payload);
}

void machine_gate::send_mark(std::string name) {
  if (state_.on_agent_mark(name) == answering_machine::pass::now) to_twilio_.send_mark(std::move(name));
}

void machine_gate::clear_audio() {
  if (state_.on_agent_clear()) to_twilio_.clear_audio();
}

// The agent's own hang-up (an end_call) goes through, unless a machine has the call: then the call hangs up
// after its message.
void machine_gate::hang_up() {
  if (!machine()) to_twilio_.hang_up();
}

void machine_gate::transfer(const std::string& number) {
  if (!machine()) to_twilio_.transfer(number);
}

}  // namespace voicebridge::call
