// What the business keeps of every call: who called, how it ended, what was said, where the audio is.
// One record per call SID, written once the call's stream ends and completed by Twilio's status callback.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "voicebridge/util/result.hpp"

namespace voicebridge::records {

// How the call ended for the caller (also the `outcome` label of voicebridge_calls_total).
namespace outcome {
inline constexpr const char* agent = "agent";            // the agent (or the local echo agent) served it
inline constexpr const char* voicemail = "voicemail";    // the caller left a message
inline constexpr const char* fallback = "fallback";      // the fallback prompt played; no message was left
inline constexpr const char* agent_failed = "agent_failed";  // the agent failed and the caller was gone first
inline constexpr const char* rejected = "rejected";      // an authenticated stream that was refused
inline constexpr const char* protocol_error = "protocol_error";  // the stream broke the Media Streams protocol
inline constexpr const char* busy = "busy";              // answered with the busy message at MAX_CALLS
inline constexpr const char* transferred = "transferred";  // handed to a human (<Dial>) over the REST API
// Outbound calls that never reached the agent, from Twilio's final CallStatus or its AMD result.
inline constexpr const char* no_answer = "no_answer";            // rang out (Twilio: no-answer)
inline constexpr const char* failed = "failed";                  // Twilio could not place it
inline constexpr const char* canceled = "canceled";              // canceled before it was answered
inline constexpr const char* voicemail_left = "voicemail_left";  // a machine answered; the route's message was left
inline constexpr const char* machine_hung_up = "machine_hung_up";  // a machine or fax answered; no message was left
}  // namespace outcome

std::int64_t epoch_ms(std::chrono::system_clock::time_point t);
inline std::int64_t now_epoch_ms() { return epoch_ms(std::chrono::system_clock::now()); }

struct transcript_line {
  std::string role;  // "user" or "agent"
  std::string text;
  std::int64_t event_id = 0;
  std::int64_t at_ms = 0;  // when the gateway heard it (ms since the epoch); 0 in records from before this
};

struct call_record {
  std::string call_sid, stream_sid, conversation_id, from, to;
  std::string route;  // the routes file's name of the route that served it
  std::string direction = "inbound";  // or "outbound": placed with POST /api/calls
  std::string answered_by;  // outbound with machine detection: Twilio's AnsweredBy (human, machine_end_beep, ...)
  std::chrono::system_clock::time_point started{}, ended{};
  std::string outcome;
  std::string end_reason;
  std::optional<std::int64_t> first_agent_audio_ms;  // from the stream's start
  std::uint64_t barge_ins = 0;
  // Fresh streams the call got after its stream was lost with its instance or handed off by a draining one:
  // the record is the last stream's (its start carries the count in the `reconnects` parameter).
  unsigned reconnects = 0;
  // This stream was handed to a fresh one by a draining instance: not the call's last record (the fresh
  // stream's replaces it), so it sends no post-call webhook.
  bool handed_off = false;
  std::vector<int> agent_close_codes;  // one per agent connection the call used
  std::string dtmf;                    // keys the caller pressed, in order
  bool opted_out = false;              // the caller pressed OPT_OUT_KEY: their number goes on the opt-out list
  std::string transferred_to;          // the number a transfer dialled
  std::vector<transcript_line> transcript;
  std::string recording_path, voicemail_path;  // absolute, empty when there is none
  // From Twilio's call status callback.
  std::string twilio_status;
  std::optional<std::int64_t> twilio_duration_s;

  // Agent text as the caller heard it: an agent_response_correction replaces the line of its event.
  // `at_ms`: when the line arrived (the caller's clock reading, for the transcript's times).
  void add_user_text(std::string text, std::int64_t event_id, std::int64_t at_ms = now_epoch_ms());
  void add_agent_text(std::string text, std::int64_t event_id, std::int64_t at_ms = now_epoch_ms());
  void correct_agent_text(std::int64_t event_id, std::string corrected);

  static constexpr std::size_t max_transcript_lines = 2000;
  static constexpr std::size_t max_line_bytes = 4096;
  static constexpr std::size_t max_dtmf = 256;
};

// The JSON the read API serves and the spool stores (times in milliseconds since the epoch).
std::string to_json(const call_record& record);
util::result<call_record> record_from_json(std::string_view text);

}  // namespace voicebridge::records
