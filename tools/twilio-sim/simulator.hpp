// Plays Twilio's part of one call against a running gateway: signed voice webhook, TwiML parsing, signed
// Media Streams upgrade, 20 ms paced caller audio, DTMF, playout with mark echoes and `clear`, exactly as
// Twilio's "Media Streams - WebSocket Messages" and "Webhooks security" pages describe. Used by the twilio-sim
// tool and by the integration tests.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace voicebridge::sim {

struct options {
  std::string host = "127.0.0.1";  // where the gateway listens (what a TLS proxy would forward to)
  std::uint16_t port = 8080;
  std::uint16_t stream_port = 0;   // where the stream connects, when not `port` (a load balancer sent it elsewhere)
  std::string public_base_url;     // what Twilio believes it calls; signatures are computed over it
  std::string auth_token;          // signs the webhook and the upgrade
  std::string webhook_path = "/api/twilio/voice/inbound";
  std::string call_sid;            // random CA... when empty
  std::string from = "+15551230001";
  std::string to = "+15559870002";
  // The webhook's Direction and CallStatus: an inbound call rings; an outbound one (the Twilio stand-in's
  // dialler) fetches its TwiML once answered, as "outbound-api", "in-progress".
  std::string direction = "inbound";
  std::string call_status = "ringing";
  std::string account_sid = "AC" + std::string(32, '0');
  std::vector<std::uint8_t> caller_audio;  // 8 kHz mu-law, sent in 160-byte frames every 20 ms
  std::vector<std::pair<std::chrono::milliseconds, char>> dtmf;  // (time after start, key)
  std::chrono::milliseconds linger{1000};  // keep listening after the caller audio ends, then hang up
  bool keep_streaming = false;  // while lingering, send silent frames as Twilio does for a quiet caller
  std::uint64_t hang_up_after_bytes = 0;   // > 0: hang up once this much agent audio arrived (linger is the cap)
  std::chrono::milliseconds max_call{60000};
  std::chrono::milliseconds stream_delay{0};  // webhook answer -> stream upgrade (Twilio's own call set-up)
  // Twilio's <Connect action>: when the gateway closes the stream (or it breaks) while the caller is on the
  // line, request the action URL and follow its answer (a fresh <Connect><Stream> opens a new stream).
  bool follow_connect_action = false;
  // > 0: the link to the gateway breaks this long into the first stream (the socket is dropped, no close
  // frame), as a crashed instance or a lost network path looks to Twilio; with follow_connect_action, the
  // action URL is requested then.
  std::chrono::milliseconds break_link_after{0};
  // Load tests: each caller frame starts with a tag (magic + sequence number) and an echo of it is timed.
  bool tag_frames = false;

  // Deviations for negative tests.
  bool sign_webhook = true;
  bool sign_stream = true;
  std::optional<std::string> stream_token_override;  // replaces the TwiML's stream_token parameter
  std::string stream_target_suffix;                   // appended to the stream path (e.g. "?token=...")
};

struct call_summary {
  unsigned webhook_status = 0;
  std::string twiml;
  std::string stream_url;
  std::string connect_action;  // <Connect action>, absolute
  std::vector<std::pair<std::string, std::string>> parameters;  // from the TwiML <Parameter>s
  // With follow_connect_action: each action answer (hangup, apology, stream), the fresh streams opened, and
  // for each the time from the loss of the one before to its first agent audio.
  std::vector<std::string> action_answers;
  unsigned fresh_streams = 0;
  std::vector<std::chrono::milliseconds> reconnect_gaps;
  unsigned upgrade_status = 0;  // 101 when the WebSocket opened
  std::string call_sid, stream_sid;
  std::uint64_t frames_sent = 0, bytes_sent = 0, dtmf_sent = 0;
  std::uint64_t frames_received = 0, bytes_received = 0;
  std::vector<std::uint8_t> received_audio;  // every media payload, decoded, in arrival order
  std::vector<std::uint8_t> played_audio;    // what the caller heard: received audio minus what `clear` dropped
  std::optional<std::chrono::milliseconds> time_to_first_audio;  // from sending `start`
  std::optional<std::chrono::milliseconds> setup_time;  // from the voice webhook's request to the first agent audio
  std::vector<std::string> marks_received;
  std::uint64_t marks_echoed = 0, clears = 0;
  std::vector<std::uint64_t> played_at_clears;  // bytes of agent audio played when each `clear` arrived
  std::optional<int> close_code;  // the server's close frame, if it closed the stream
  std::string close_reason;
  bool server_closed = false;
  std::chrono::milliseconds duration{0};
  std::vector<std::string> protocol_errors;  // anything the gateway sent that Twilio would reject
  // With tag_frames: the round trip of every tagged frame that came back, and how they came back.
  std::vector<std::uint32_t> round_trips_us;
  std::vector<std::uint32_t> agent_holds_us;  // of the same frames: what the (fake) agent says it took
  std::uint64_t tagged_sent = 0, tagged_received = 0, tagged_out_of_order = 0;
  std::string error;                          // why the call could not be run
};

boost::asio::awaitable<call_summary> run_call(options opts);

std::string random_sid(std::string_view prefix);
std::string format_summary(const call_summary& summary);
std::string summary_json(const call_summary& summary);

}  // namespace voicebridge::sim
