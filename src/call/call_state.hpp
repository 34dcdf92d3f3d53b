// The decisions of one Twilio call, sans-I/O (in the manner of Boost.Redis's *_fsm): the call's I/O shell
// (call/twilio_stream.cpp) reports what happened (a message, a timer, an agent's end, a write's failure) and
// carries out the step it gets back (hand it to the agent, close with a code, try the agent again, play the
// fallback, ping). The phase is held here, explicitly, and so is everything the outcome is decided from, so
// that every way a call can go is unit-tested without a socket (tests/call/call_state_test.cpp).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "call/agent.hpp"
#include "call/agent_retry.hpp"

namespace voicebridge::twilio {
struct start_message;
}

namespace voicebridge::call {

// How the upgrade request proved itself before `start` (the per-call token in `start` can do it after).
enum class upgrade_auth { none, twilio_signature };

enum class call_phase {
  awaiting_start,  // the socket is open; no authenticated `start` yet
  serving,         // started: the agent (or its retry, or the fallback) has the call
  closing,         // a close frame is queued, or the socket is being dropped: nothing more is sent or handed on
};

// Why the gateway refused to serve a stream. The first four are the stream breaking the protocol (the record
// says protocol_error); the rest are credentials, format and capacity.
enum class refusal {
  bad_frame,  // a WebSocket frame that breaks RFC 6455 (an unmasked frame, a reserved opcode, ...)
  binary_frame,
  invalid_message,
  before_start,
  message_too_big,
  bad_stream_token,
  no_credentials,
  unsupported_format,
  over_capacity,
  route_over_capacity,  // the route's own max_calls
  unknown_route,        // the route its webhook chose is no longer configured (a reload removed it)
  no_start_in_time,
};
std::string_view label(refusal why);  // the rejected_streams_total reason
bool is_protocol_violation(refusal why);
std::uint16_t close_code_of(refusal why);
// The configured limit a refusal is (counted in limit_hits_total), if it is one.
std::optional<std::string_view> limit_of(refusal why);

// Whether the gateway itself served a call that ended with `outcome` (an agent, its fallback, a transfer, a
// message left on a machine): Twilio's <Connect> action then hangs up rather than apologise.
bool served_by_gateway(std::string_view outcome);

// WebSocket close codes (RFC 6455, section 7.4.1) the call closes with.
namespace close_code {
constexpr std::uint16_t normal = 1000, going_away = 1001, protocol_error = 1002, unknown_data = 1003, bad_payload = 1007,
                        policy_error = 1008, too_big = 1009, try_again_later = 1013;
}

struct close_request {
  std::uint16_t code = close_code::normal;
  std::string reason;  // at most 120 bytes: a close frame's reason is at most 123
};

// What the shell does after an event. `close` is set when a close frame is to be queued (and `refused` too
// when the gateway refuses the stream: the shell counts and logs it).
struct call_step {
  enum class kind : std::uint8_t {
    nothing,
    to_agent,              // hand the event to the agent
    transfer_to_operator,  // DTMF OPERATOR_KEY: a human, not the agent
    check_room,            // `start` authenticated: find its route and ask admission, then report on_room()
    start_agent,           // the call is admitted: create the agent (or adopt a pre-warmed one) and run it
    close,
  };
  call_step(kind k = kind::nothing) : what(k) {}  // NOLINT: a step is named by its kind
  kind what;
  std::optional<refusal> refused;
  std::optional<close_request> close;
};

// What the agent loop does after an attempt ended.
struct agent_step {
  enum class kind : std::uint8_t {
    run,       // the call started: run the agent
    retry,     // connect a fresh agent after `wait` (zero: at once)
    fallback,  // the fallback prompt, tone and voicemail, with `fallback_reason` counted
    finish,    // close with `close`; nothing more to run
  };
  agent_step(kind k = kind::finish) : what(k) {}  // NOLINT: a step is named by its kind
  kind what;
  std::chrono::milliseconds wait{0};
  std::string_view fallback_reason;  // a metric label: failed_mid_call, refused, rate_limited, unreachable
  std::optional<close_request> close;
};

// What the watchdog does at one of its looks.
enum class watch_step { nothing, ping, drop_for_write_timeout, drop_for_idle };

struct call_state_settings {
  std::string_view stream_token_key;  // TWILIO_STREAM_TOKEN (empty: per-call tokens are not accepted)
  upgrade_auth auth = upgrade_auth::none;
  std::size_t max_calls = 0;
  std::chrono::steady_clock::duration write_timeout{std::chrono::seconds(10)};
  std::chrono::steady_clock::duration idle_timeout{std::chrono::seconds(10)};
  agent_retry_settings retry{};
  std::uint32_t retry_seed = 1;
};

// What the shell found for an authenticated `start`: its route and whether there is room for it.
struct room {
  bool route_known = true;  // the route named by the start's (token-bound) route parameter is configured
  bool admitted_by_webhook = false;  // this instance's webhook admitted the call: its slot is kept
  std::size_t active_calls = 0;
  std::size_t route_active_calls = 0;
  std::optional<std::size_t> route_max_calls;  // the route's share of MAX_CALLS
  std::optional<char> operator_key;  // the route's OPERATOR_KEY, when it has an operator number
};

class call_state {
 public:
  explicit call_state(call_state_settings settings);

  call_phase phase() const { return phase_; }
  bool started() const { return started_; }
  bool closing() const { return phase_ == call_phase::closing; }
  bool authenticated() const { return authenticated_; }
  bool caller_gone() const { return caller_gone_; }
  const std::string& call_sid() const { return call_sid_; }
  const std::string& end_reason() const { return end_reason_; }
  // The route the authenticated start names (its stream token is bound to it); empty for a start that
  // authenticated by the upgrade's signature alone, which takes the catch-all route.
  const std::string& route() const { return route_; }

  // --- from Twilio ---
  call_step on_start(const twilio::start_message& start, std::chrono::system_clock::time_point now);
  // After check_room: the call's route and the room for it.
  call_step on_room(const room& found);
  call_step on_media();  // 50 times a second: decides, records nothing
  call_step on_dtmf(char digit);
  call_step on_mark() const;
  call_step on_start_deadline();  // STREAM_AUTH_TIMEOUT passed: refused unless started
  call_step on_stop();
  call_step on_binary_frame() { return refuse(refusal::binary_frame, "binary frame"); }
  // A frame the WebSocket reader failed on, with the close code it named: text that is not UTF-8 is an invalid
  // message (1007), anything else a protocol error (1002), as RFC 6455 section 7.4.1 names them.
  call_step on_bad_frame(std::uint16_t reader_code) {
    return reader_code == close_code::bad_payload ? refuse(refusal::invalid_message, "text not UTF-8")
                                                   : refuse(refusal::bad_frame, "websocket protocol error");
  }
  call_step on_invalid_message() { return refuse(refusal::invalid_message, "invalid message"); }
  call_step on_oversized_message() { return refuse(refusal::message_too_big, "message too big"); }
  enum class read_end { closed_by_twilio, timed_out, error };
  // The socket is gone: nothing more comes from the caller. Returns why, for the log line.
  std::string_view on_read_end(read_end how);

  // --- the writer ---
  void on_write_failed();
  bool write_timed_out() const { return write_timed_out_; }

  // --- the watchdog: a look at `now`; the caller last heard at `last_heard`, the write pending since ---
  watch_step watch(std::chrono::steady_clock::time_point now, std::chrono::steady_clock::time_point last_heard,
                   std::optional<std::chrono::steady_clock::time_point> write_started);
  void on_pong_or_ping_done() { ping_pending_ = false; }
  std::chrono::steady_clock::duration watch_interval() const;

  // --- the agent loop ---
  // An attempt ended, `since_first_attempt` after the first began: retry, fallback or finish.
  agent_step on_agent_end(agent_end end, std::chrono::milliseconds since_first_attempt);
  // The retry's wait is over: run the fresh agent, or finish with the previous end if the call ended meanwhile.
  agent_step on_backoff_done(agent_end previous);
  agent_step on_fallback_end(agent_end end) { return finish(end); }
  bool agent_served() const { return agent_served_; }

  // --- the call's own decisions ---
  // A close the call asks for (the agent hung up, the drain, the agent's end): nullopt when already closing.
  std::optional<close_request> close(std::uint16_t code, std::string reason);
  // A transfer may start when none is in flight and the call is not closing. From its start the outcome is
  // "transferred" (Twilio may end the stream before its answer), unless Twilio refuses it.
  bool can_transfer() const { return !transfer_in_flight_ && phase_ != call_phase::closing; }
  void begin_transfer() { transfer_in_flight_ = true; }
  void transfer_done(bool ok);
  // How the call ended (the `outcome` of the record and of voicebridge_calls_total). `agent_outcome` is what
  // the agent's loop and the agent itself recorded (agent, agent_failed, voicemail, fallback), if anything.
  std::string outcome(std::string_view agent_outcome) const;
  // How the stream ends for the other instances (records::stream_state) when the gateway closes it: refused
  // (the apology), handed off by the drain (a fresh stream on another instance), else served (the hang-up).
  std::string_view closing_state() const;

 private:
  call_step refuse(refusal why, std::string reason);
  agent_step finish(agent_end end);

  call_state_settings settings_;
  call_phase phase_ = call_phase::awaiting_start;
  agent_retry_policy retry_;
  std::string call_sid_, end_reason_, route_;
  std::optional<char> operator_key_;  // the route's, from on_room
  bool started_ = false;
  bool authenticated_ = false;  // `start` proved itself (the record may be written)
  bool caller_gone_ = false;
  bool refused_ = false;
  bool protocol_violated_ = false;
  bool write_timed_out_ = false;
  bool idle_timed_out_ = false;
  bool ping_pending_ = false;
  bool agent_served_ = false;
  bool transfer_in_flight_ = false;
  bool transferred_ = false;
  std::uint16_t closed_with_ = 0;  // the code of the close the call asked for
};

}  // namespace voicebridge::call
