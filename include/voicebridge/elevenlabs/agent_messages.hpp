// ElevenLabs Agents (ConvAI) WebSocket messages (ElevenLabs Agents Platform API reference, "WebSocket": client and server events), both directions, as plain
// structs. Unknown message types are reported as such and ignored by the caller: new ones appear often.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "voicebridge/util/result.hpp"

namespace voicebridge::elevenlabs {

// ASR input / TTS output formats an agent can be set to. PCM is signed 16-bit little-endian mono.
struct audio_format {
  enum class kind { ulaw, pcm } encoding = kind::ulaw;
  unsigned sample_rate = 8000;
  friend bool operator==(const audio_format&, const audio_format&) = default;
  bool is_twilio_native() const { return encoding == kind::ulaw && sample_rate == 8000; }
};
std::optional<audio_format> parse_audio_format(std::string_view name);  // "ulaw_8000", "pcm_16000", ...

// Server -> gateway
struct initiation_metadata {
  std::string conversation_id;
  audio_format agent_output;
  audio_format user_input;
};
struct audio_event {
  std::string audio_base64;
  std::int64_t event_id = 0;
};
// An audio event read in place: the audio is a view into the text it was read from (the per-frame path).
struct audio_view {
  std::string_view audio_base64;
  std::int64_t event_id = 0;
};
struct interruption_event {
  std::int64_t event_id = 0;
};
struct ping_event {
  std::int64_t event_id = 0;
  std::optional<std::int64_t> ping_ms;
};
struct user_transcript {
  std::string text;
  std::int64_t event_id = 0;
};
struct agent_response {
  std::string text;
  std::int64_t event_id = 0;
};
struct agent_response_correction {
  std::string original;
  std::string corrected;
  std::int64_t event_id = 0;
};
struct client_tool_call {
  std::string tool_name;
  std::string tool_call_id;
  std::string parameters_json;  // the "parameters" object, serialized
  std::int64_t event_id = 0;
};
// Both documented shapes: {"type":"error","error_event":{code,message,error_type,...}} and the flat
// quota form {"type":"error","message":"received 1002 ..."}.
struct agent_error {
  std::optional<int> code;
  std::string error_type;
  std::string message;
};
struct unknown_event {
  std::string type;
};
using server_message = std::variant<initiation_metadata, audio_event, interruption_event, ping_event, user_transcript,
                                    agent_response, agent_response_correction, client_tool_call, agent_error,
                                    unknown_event>;

util::result<server_message> parse_server_message(std::string_view text);
// The two halves of parse_server_message, public for the differential tests and fuzzers that hold them to the
// same answer: an audio event in the simple form (util/simple_json.hpp) read without a DOM, nullopt for
// anything else; and the Boost.JSON parser, which reads every message and is the reference.
std::optional<audio_event> parse_audio_fast(std::string_view text);
// parse_audio_fast's reading without the copy: a view into `text`.
std::optional<audio_view> read_audio_in_place(std::string_view text);
util::result<server_message> parse_server_message_dom(std::string_view text);

// Gateway -> server
struct initiation_client_data {
  std::vector<std::pair<std::string, std::string>> dynamic_variables;
  std::string config_override_json;  // "conversation_config_override" object, or empty
};
std::string serialize_initiation(const initiation_client_data& data);
// The business's pre-call answer laid over the route's: each variable replaces one of its name, except the
// call's own facts (caller_number, called_number, call_sid, direction), which the business cannot rewrite;
// the override object is merged into the route's, key by key, the answer's value winning.
void merge_precall(initiation_client_data& data, const std::vector<std::pair<std::string, std::string>>& variables,
                   std::string_view config_override_json);
std::string serialize_user_audio(std::string_view audio_base64);
// The same message written into `out`, replacing what it held: its capacity is reused (util/recycled_text.hpp).
void serialize_user_audio(std::string& out, std::string_view audio_base64);
std::string serialize_pong(std::int64_t event_id);
std::string serialize_contextual_update(std::string_view text);
std::string serialize_user_message(std::string_view text);
std::string serialize_tool_result(std::string_view tool_call_id, std::string_view result, bool is_error);

// Barge-in bookkeeping (ElevenLabs Agents Platform API reference, "WebSocket", the `interruption` event): after an interruption, audio with event_id <= its id is stale.
class interruption_filter {
 public:
  void on_interruption(std::int64_t event_id) { last_ = last_ ? std::max(*last_, event_id) : event_id; }
  bool is_stale(std::int64_t audio_event_id) const { return last_ && audio_event_id <= *last_; }

 private:
  std::optional<std::int64_t> last_;
};

}  // namespace voicebridge::elevenlabs
