// What both agent kinds (an ElevenLabs agent, the pipeline's LLM) share of the gateway's own behaviour: the
// sentence that tells the agent about a key press, and the tools the gateway carries out itself. Sans-I/O.
#pragma once
#include <string>
#include <string_view>

namespace voicebridge::call {

// The agent hears about a key press as text (neither agent has a DTMF input of its own).
std::string dtmf_sentence(char digit);

// A call to one of the gateway's tools: end_call (or hang_up): the agent says goodbye and the call ends;
// transfer_to_number {"phone_number": "+1..."} (also "transfer_number" or "number"): over Twilio's REST API.
struct tool_request {
  enum class kind { end_call, transfer, unknown, invalid };
  kind what = kind::unknown;
  std::string number;  // transfer: the E.164 number
  std::string result;  // the tool result the agent gets back
  bool is_error = false;
};
tool_request read_tool_call(std::string_view name, std::string_view arguments_json);

}  // namespace voicebridge::call
