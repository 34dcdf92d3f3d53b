#include "call/call_state.hpp"

#include "records/call_record.hpp"
#include "records/call_streams.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"

namespace voicebridge::call {

std::string_view label(refusal why) {
  switch (why) {
    case refusal::bad_frame: return "bad_frame";
    case refusal::binary_frame: return "binary_frame";
    case refusal::invalid_message: return "invalid_message";
    case refusal::before_start: return "before_start";
    case refusal::message_too_big: return "message_too_big";
    case refusal::bad_stream_token: return "bad_stream_token";
    case refusal::no_credentials: return "no_credentials";
    case refusal::unsupported_format: return "unsupported_format";
    case refusal::over_capacity: return "over_capacity";
    case refusal::route_over_capacity: return "route_over_capacity";
    case refusal::unknown_route: return "unknown_route";
    case refusal::no_start_in_time: return "no_start_in_time";
  }
  return "unknown";
}

bool is_protocol_violation(refusal why) {
  return why == refusal::bad_frame || why == refusal::binary_frame || why == refusal::invalid_message || why == refusal::before_start ||
         why == refusal::message_too_big;
}

std::uint16_t close_code_of(refusal why) {
  switch (why) {
    case refusal::bad_frame: return close_code::protocol_error;
    case refusal::binary_frame:
    case refusal::unsupported_format: return close_code::unknown_data;
    case refusal::invalid_message: return close_code::bad_payload;
    case refusal::message_too_big: return close_code::too_big;
    case refusal::over_capacity:
    case refusal::route_over_capacity: return close_code::try_again_later;
    case refusal::unknown_route:
    case refusal::before_start:
    case refusal::bad_stream_token:
    case refusal::no_credentials:
    case refusal::no_start_in_time: break;
  }
  return close_code::policy_error;
}

std::optional<std::string_view> limit_of(refusal why) {
  switch (why) {
    case refusal::message_too_big: return "ws_message_size";  // MAX_WS_MESSAGE_BYTES
    case refusal::over_capacity: return "max_calls";
    case refusal::route_over_capacity: return "route_max_calls";
    case refusal::no_start_in_time: return "stream_auth_timeout";
    default: return std::nullopt;
  }
}

call_state::call_state(call_state_settings settings) : settings_(settings), retry_(settings.retry, settings.retry_seed) {}

call_step call_state::on_start(const twilio::start_message& start, std::chrono::system_clock::time_point now) {
  if (started_ || phase_ == call_phase::closing) return {};  // a duplicate start is ignored
  call_sid_ = start.call_sid;
  if (const std::string* token = start.parameter(twilio::stream_token_parameter)) {
    const std::string* route = start.parameter(twilio::route_parameter);
    route_ = route ? *route : std::string();
    const auto status = twilio::verify_stream_token(settings_.stream_token_key, *token, start.call_sid, route_, now);
    if (status != twilio::stream_token_status::valid)
      return refuse(refusal::bad_stream_token, "stream token " + std::string(twilio::to_string(status)));
  } else if (settings_.auth == upgrade_auth::none) {
    return refuse(refusal::no_credentials, "no credentials");
  }
  authenticated_ = true;
  // Twilio Media Streams sends 8 kHz mono mu-law on an inbound track ("Media Streams - WebSocket Messages",
  // the start message's mediaFormat); anything else the gateway cannot play or transcribe.
  if ((!start.encoding.empty() && start.encoding != "audio/x-mulaw") || (start.sample_rate != 0 && start.sample_rate != 8000) ||
      (start.channels != 0 && start.channels != 1))
    return refuse(refusal::unsupported_format, "unsupported media format " + start.encoding);
  return {call_step::kind::check_room};
}

call_step call_state::on_room(const room& found) {
  if (!found.route_known) return refuse(refusal::unknown_route, "route no longer configured");
  // A stream this instance's webhook admitted has its slot; any other must find room under MAX_CALLS (and
  // its route's max_calls) now.
  if (!found.admitted_by_webhook) {
    if (found.active_calls >= settings_.max_calls) return refuse(refusal::over_capacity, "at MAX_CALLS");
    if (found.route_max_calls && found.route_active_calls >= *found.route_max_calls)
      return refuse(refusal::route_over_capacity, "at the route's max_calls");
  }
  operator_key_ = found.operator_key;
  started_ = true;
  phase_ = call_phase::serving;
  return {call_step::kind::start_agent};
}

call_step call_state::on_media() {
  if (!started_) return refuse(refusal::before_start, "media before start");
  return {call_step::kind::to_agent};
}

call_step call_state::on_dtmf(char digit) {
  if (!started_) return refuse(refusal::before_start, "dtmf before start");
  if (operator_key_ && digit == *operator_key_) return {call_step::kind::transfer_to_operator};
  return {call_step::kind::to_agent};
}

call_step call_state::on_mark() const { return {started_ ? call_step::kind::to_agent : call_step::kind::nothing}; }

call_step call_state::on_stop() {
  end_reason_ = "twilio stop";  // whatever was noted before: Twilio ended the stream
  caller_gone_ = true;
  if (started_) return {call_step::kind::to_agent};  // the agent hears the caller hang up
  call_step step{call_step::kind::close};
  step.close = close(close_code::normal, "stop before start");
  if (!step.close) step.what = call_step::kind::nothing;
  return step;
}

call_step call_state::on_start_deadline() {
  if (started_) return {};
  return refuse(refusal::no_start_in_time, "no authenticated start in time");
}

std::string_view call_state::on_read_end(read_end how) {
  caller_gone_ = true;
  const std::string_view why = how == read_end::closed_by_twilio                  ? "twilio closed"
                               : idle_timed_out_ || how == read_end::timed_out ? "idle timeout"
                                                                               : "connection error";
  if (end_reason_.empty()) end_reason_ = why;
  return why;
}

void call_state::on_write_failed() {
  if (end_reason_.empty()) end_reason_ = write_timed_out_ ? "write timeout" : "write error";
  phase_ = call_phase::closing;  // the shell drops the socket
}

std::chrono::steady_clock::duration call_state::watch_interval() const {
  return std::min(settings_.write_timeout, settings_.idle_timeout) / 2;
}

// Each condition is found within 1 to 1.5 times its timeout: the looks come twice per the smaller timeout.
watch_step call_state::watch(std::chrono::steady_clock::time_point now, std::chrono::steady_clock::time_point last_heard,
                             std::optional<std::chrono::steady_clock::time_point> write_started) {
  // A peer that stops reading would hold a write forever.
  if (write_started && now - *write_started >= settings_.write_timeout) {
    write_timed_out_ = true;
    phase_ = call_phase::closing;
    return watch_step::drop_for_write_timeout;
  }
  if (phase_ == call_phase::closing) return watch_step::nothing;  // the close handshake has its own timeout
  const auto quiet = now - last_heard;
  if (quiet >= settings_.idle_timeout) {
    idle_timed_out_ = true;
    phase_ = call_phase::closing;
    return watch_step::drop_for_idle;
  }
  // Twilio sends media every 20 ms, even in silence, so a caller quiet for half a look is rare: its pong
  // (any control frame) counts as news.
  if (quiet >= watch_interval() / 2 && !ping_pending_) {
    ping_pending_ = true;
    return watch_step::ping;
  }
  return watch_step::nothing;
}

agent_step call_state::on_agent_end(agent_end end, std::chrono::milliseconds since_first_attempt) {
  if (!caller_gone_ && phase_ != call_phase::closing) {
    if (const auto wait = retry_.after(end, since_first_attempt)) {
      agent_step step{agent_step::kind::retry};
      step.wait = *wait;
      return step;
    }
    if (end != agent_end::served) {  // never dead air: the fallback prompt, the tone, and the caller's message
      agent_step step{agent_step::kind::fallback};
      step.fallback_reason = end == agent_end::failed_mid_call ? "failed_mid_call"
                             : end == agent_end::refused       ? "refused"
                             : end == agent_end::rate_limited  ? "rate_limited"
                                                               : "unreachable";
      return step;
    }
  }
  return finish(end);
}

agent_step call_state::on_backoff_done(agent_end previous) {
  if (caller_gone_ || phase_ == call_phase::closing) return finish(previous);
  return {agent_step::kind::run};
}

agent_step call_state::finish(agent_end end) {
  agent_served_ = end == agent_end::served;
  agent_step step{agent_step::kind::finish};
  step.close = close(close_code::normal, agent_served_ ? "call ended" : "agent unavailable");
  return step;
}

std::optional<close_request> call_state::close(std::uint16_t code, std::string reason) {
  if (phase_ == call_phase::closing) return std::nullopt;
  phase_ = call_phase::closing;
  closed_with_ = code;
  if (end_reason_.empty()) end_reason_ = reason;
  if (reason.size() > 120) reason.resize(120);
  return close_request{code, std::move(reason)};
}

call_step call_state::refuse(refusal why, std::string reason) {
  if (phase_ == call_phase::closing) return {};
  refused_ = true;
  protocol_violated_ = is_protocol_violation(why);  // the stream's fault, not the agent's: the record says so
  call_step step{call_step::kind::close};
  step.refused = why;
  step.close = close(close_code_of(why), std::move(reason));
  return step;
}

void call_state::transfer_done(bool ok) {
  transfer_in_flight_ = false;
  if (ok) transferred_ = true;
}

std::string_view call_state::closing_state() const {
  if (refused_) return records::stream_state::unserved;
  if (closed_with_ == close_code::going_away) return records::stream_state::handed_off;
  return records::stream_state::served;
}

bool served_by_gateway(std::string_view outcome) {
  namespace o = records::outcome;
  for (std::string_view served : {o::agent, o::voicemail, o::fallback, o::transferred, o::voicemail_left, o::machine_hung_up})
    if (outcome == served) return true;
  return false;
}

std::string call_state::outcome(std::string_view agent_outcome) const {
  if (transfer_in_flight_ || transferred_) return records::outcome::transferred;
  if (authenticated_ && protocol_violated_) return records::outcome::protocol_error;
  if (!agent_outcome.empty()) return std::string(agent_outcome);
  if (refused_ || authenticated_) return records::outcome::rejected;
  return "abandoned";
}

}  // namespace voicebridge::call
