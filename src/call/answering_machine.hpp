// Who answered an outbound call, and what the agent may say meanwhile, sans-I/O. Twilio's asynchronous
// answering-machine detection (Twilio Docs, "Answering Machine Detection", AsyncAmd and the AnsweredBy
// webhook parameter) connects the call at once and posts its verdict later: with DetectMessageEnd, `human`
// as soon as a person is heard, `machine_end_*` only once the greeting is over (usually at its beep). Until
// then the agent hears the callee but its first turn is held here, so that a voicemail box is never greeted;
// a human (or no verdict in time) releases it in order, a machine drops it for the route's message.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace voicebridge::call {

enum class answered_by { human, machine, fax, unknown };
// Twilio's AnsweredBy values: human, machine_start (MachineDetection=Enable), machine_end_beep,
// machine_end_silence, machine_end_other, fax, unknown; nullopt for anything else.
std::optional<answered_by> parse_answered_by(std::string_view twilio_value);

struct amd_settings {
  bool hold_greeting = true;  // AMD_HOLD_GREETING: the agent's audio waits for the verdict
  std::chrono::milliseconds timeout{5000};  // AMD_TIMEOUT_MS: no verdict by then lets the agent speak
  std::size_t max_held_bytes = 256 * 1024;  // base64 held at most (about 24 s of audio); beyond it, dropped
  bool have_message = false;  // the route has a voicemail message to leave on a machine
};

// Agent output held while the verdict is pending: audio (base64 mu-law) or a mark, in the agent's order.
struct held_output {
  enum class kind : unsigned char { audio, mark };
  kind what;
  std::string text;
};

class answering_machine {
 public:
  enum class phase {
    listening,  // no verdict yet
    speaking,   // a human, `unknown`, or the timeout: the agent has the call
    machine,    // a machine or a fax: the agent is ended and nothing of it reaches the callee
  };
  // What the agent's output does now.
  enum class pass { now, held, dropped };

  // What the call does on a verdict (or the timeout).
  struct step {
    enum class kind : unsigned char {
      nothing,
      release,        // send `released` in order; the agent goes on
      leave_message,  // end the agent, play the route's voicemail message, hang up
      hang_up,        // end the agent and hang up: a fax, or a machine and no message to leave
    };
    kind what = kind::nothing;
    bool clear_twilio = false;  // agent audio already went to Twilio: `clear` it before the message
    std::vector<held_output> released;
  };

  explicit answering_machine(amd_settings settings) : settings_(settings) {}

  phase current() const { return phase_; }
  const amd_settings& settings() const { return settings_; }
  // The raw AnsweredBy of the verdict that decided, or "timeout"; empty while listening.
  const std::string& verdict() const { return verdict_; }
  // The outcome of a call ended by a machine verdict: voicemail_left once the message played to its end.
  static std::string machine_outcome(bool message_played);

  pass on_agent_audio(std::string_view payload_base64);
  pass on_agent_mark(std::string_view name);
  // The agent cleared its audio (a barge-in): held audio is dropped, held marks stay (Twilio would echo
  // them at once). True when the clear goes on to Twilio.
  bool on_agent_clear();
  step on_result(answered_by who, std::string_view raw);
  step on_timeout();
  std::size_t dropped_bytes() const { return dropped_bytes_; }

 private:
  bool holding() const { return phase_ == phase::listening && settings_.hold_greeting; }
  step release(std::string verdict);

  amd_settings settings_;
  phase phase_ = phase::listening;
  std::vector<held_output> held_;
  std::size_t held_bytes_ = 0, dropped_bytes_ = 0;
  bool sent_audio_ = false;  // some agent audio reached Twilio
  std::string verdict_;
};

}  // namespace voicebridge::call
