#include "call/answering_machine.hpp"

#include <utility>

#include "records/call_record.hpp"

namespace voicebridge::call {

std::optional<answered_by> parse_answered_by(std::string_view v) {
  if (v == "human") return answered_by::human;
  // machine_start only comes with MachineDetection=Enable, which the gateway does not ask for; it is a
  // machine all the same.
  if (v == "machine_start" || v == "machine_end_beep" || v == "machine_end_silence" || v == "machine_end_other")
    return answered_by::machine;
  if (v == "fax") return answered_by::fax;
  if (v == "unknown") return answered_by::unknown;
  return std::nullopt;
}

std::string answering_machine::machine_outcome(bool message_played) {
  return message_played ? records::outcome::voicemail_left : records::outcome::machine_hung_up;
}

answering_machine::pass answering_machine::on_agent_audio(std::string_view payload) {
  if (phase_ == phase::machine) return pass::dropped;
  if (!holding()) {
    sent_audio_ = true;
    return pass::now;
  }
  if (held_bytes_ + payload.size() > settings_.max_held_bytes) {
    dropped_bytes_ += payload.size();
    return pass::dropped;
  }
  held_bytes_ += payload.size();
  held_.push_back({held_output::kind::audio, std::string(payload)});
  return pass::held;
}

answering_machine::pass answering_machine::on_agent_mark(std::string_view name) {
  if (phase_ == phase::machine) return pass::dropped;
  if (!holding()) return pass::now;
  held_.push_back({held_output::kind::mark, std::string(name)});
  return pass::held;
}

bool answering_machine::on_agent_clear() {
  if (phase_ == phase::machine) return false;
  if (!holding()) return true;
  std::erase_if(held_, [](const held_output& o) { return o.what == held_output::kind::audio; });
  held_bytes_ = 0;
  return false;
}

answering_machine::step answering_machine::release(std::string verdict) {
  step s;
  if (phase_ != phase::listening) return s;  // a verdict after the timeout: the agent has the call already
  phase_ = phase::speaking;
  verdict_ = std::move(verdict);
  s.what = step::kind::release;
  s.released = std::exchange(held_, {});
  held_bytes_ = 0;
  for (const auto& o : s.released)
    if (o.what == held_output::kind::audio) sent_audio_ = true;
  return s;
}

answering_machine::step answering_machine::on_result(answered_by who, std::string_view raw) {
  if (phase_ == phase::machine) return {};  // decided: a second verdict changes nothing
  if (who == answered_by::human || who == answered_by::unknown) return release(std::string(raw));
  // A machine or a fax, also after the timeout let the agent speak: a message is better than an agent
  // talking to a recorder.
  step s;
  s.what = who == answered_by::machine && settings_.have_message ? step::kind::leave_message : step::kind::hang_up;
  s.clear_twilio = sent_audio_;
  phase_ = phase::machine;
  verdict_ = std::string(raw);
  held_.clear();
  held_bytes_ = 0;
  return s;
}

answering_machine::step answering_machine::on_timeout() { return release("timeout"); }

}  // namespace voicebridge::call
