#include "elevenlabs/conversation_end.hpp"

namespace voicebridge::elevenlabs {

namespace {
constexpr int normal_close = 1000;  // RFC 6455, section 7.4.1
constexpr int policy_close = 1008;
}  // namespace

connect_refusal refusal_of_upgrade(unsigned status) {
  if (status == 429) return connect_refusal::rate_limited;
  if (status >= 400 && status < 500) return connect_refusal::refused;
  return connect_refusal::none;
}

connect_refusal refusal_of_signed_url(unsigned status) {
  if (status == 429) return connect_refusal::rate_limited;
  if (status == 401 || status == 403 || status == 404) return connect_refusal::refused;
  return connect_refusal::none;
}

bool is_permanent_close(int close_code, std::string_view reason) {
  return close_code == policy_close || reason.find("quota") != std::string_view::npos;
}

bool is_quota_error(std::string_view message, std::string_view error_type) {
  return message.find("quota") != std::string_view::npos || error_type.find("quota") != std::string_view::npos;
}

call::agent_end end_of_refusal(connect_refusal refusal) {
  switch (refusal) {
    case connect_refusal::refused: return call::agent_end::refused;
    case connect_refusal::rate_limited: return call::agent_end::rate_limited;
    case connect_refusal::none: break;
  }
  return call::agent_end::unreachable;
}

conversation_end end_of_conversation(const conversation_facts& f) {
  if (!f.connected) return {end_of_refusal(f.refusal), false};
  if (f.caller_gone) return {call::agent_end::served, false};
  if (f.close_code != normal_close) {
    if (f.caller_heard_agent) return {call::agent_end::failed_mid_call, false};
    // It closed before the caller heard anything: a policy close or a quota error will not pass.
    const bool permanent = f.close_code == policy_close || f.quota_error;
    return {permanent ? call::agent_end::refused : call::agent_end::unreachable, false};
  }
  return {call::agent_end::served, true};
}

}  // namespace voicebridge::elevenlabs
