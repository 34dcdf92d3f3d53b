// How an ElevenLabs conversation ended, as the call sees it (sans-I/O): what an HTTP status, a close code or
// an error event means for trying again, and the agent_end of a conversation from what it went through.
#pragma once
#include <string_view>

#include "call/agent.hpp"

namespace voicebridge::elevenlabs {

// Why connecting failed, as far as a retry is concerned.
enum class connect_refusal {
  none,          // may pass (connect, TLS, 5xx, a close before the metadata): unreachable
  refused,       // will not pass by retrying: refused
  rate_limited,  // 429, busy or at the concurrency limit: worth a retry after a backoff
};

// An upgrade answered with `status`: a 4xx other than 429 will not pass by trying again.
connect_refusal refusal_of_upgrade(unsigned status);
// The signed-URL request answered with `status`: 401, 403 and 404 say the key or the agent is wrong.
connect_refusal refusal_of_signed_url(unsigned status);
// A close frame: a policy close (1008) or a reason about quota will not pass.
bool is_permanent_close(int close_code, std::string_view reason);
// An agent error event about quota (ElevenLabs API reference, "Agent WebSockets", error event).
bool is_quota_error(std::string_view message, std::string_view error_type);
// The agent_end of each connect refusal.
call::agent_end end_of_refusal(connect_refusal refusal);

// What one conversation went through, for its end.
struct conversation_facts {
  bool connected = false;
  connect_refusal refusal = connect_refusal::none;  // when it did not connect
  bool caller_gone = false;   // the caller hung up (or the call ended it)
  int close_code = -1;        // the agent's close frame; -1: none came
  bool caller_heard_agent = false;
  bool quota_error = false;   // an error event about quota arrived
};

struct conversation_end {
  call::agent_end end = call::agent_end::served;
  bool play_goodbye = false;  // the agent closed normally (end_call): let its goodbye play, then hang up
};
conversation_end end_of_conversation(const conversation_facts& facts);

}  // namespace voicebridge::elevenlabs
