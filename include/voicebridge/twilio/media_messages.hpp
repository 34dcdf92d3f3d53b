// Twilio Media Streams messages (Twilio docs, "Media Streams - WebSocket Messages": "Messages from Twilio" and "Send messages to Twilio"), both directions, as plain structs.
// Parsing is tolerant of unknown events and fields and strict about the types of fields it uses.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "voicebridge/util/result.hpp"

namespace voicebridge::twilio {

// Twilio -> gateway
struct connected_message {
  std::string protocol;
  std::string version;
};
struct start_message {
  std::uint64_t sequence_number = 0;
  std::string stream_sid;
  std::string call_sid;
  std::string account_sid;
  std::vector<std::string> tracks;
  std::string encoding;  // audio/x-mulaw
  unsigned sample_rate = 0;
  unsigned channels = 0;
  std::vector<std::pair<std::string, std::string>> custom_parameters;
  const std::string* parameter(std::string_view name) const;
};
struct media_message {
  std::uint64_t sequence_number = 0;
  std::string track;
  std::uint64_t chunk = 0;
  std::uint64_t timestamp_ms = 0;
  std::string payload;  // base64 mu-law, validated
};
// A media message read in place: its views point into the text it was read from (the per-frame path, which
// copies nothing).
struct media_view {
  std::uint64_t sequence_number = 0;
  std::string_view track;
  std::uint64_t chunk = 0;
  std::uint64_t timestamp_ms = 0;
  std::string_view payload;  // base64 mu-law, validated
};
struct dtmf_message {
  std::uint64_t sequence_number = 0;
  std::string track;
  std::string digit;
};
struct mark_message {
  std::uint64_t sequence_number = 0;
  std::string name;
};
struct stop_message {
  std::uint64_t sequence_number = 0;
  std::string account_sid;
  std::string call_sid;
};
struct unknown_message {
  std::string event;
};
using inbound_message = std::variant<connected_message, start_message, media_message, dtmf_message, mark_message,
                                     stop_message, unknown_message>;

// gateway -> Twilio
struct outbound_media {
  std::string payload;
};
struct outbound_mark {
  std::string name;
};
struct outbound_clear {};
using outbound_message = std::variant<outbound_media, outbound_mark, outbound_clear>;

template <class T>
using parse_result = util::result<T>;

parse_result<inbound_message> parse_inbound(std::string_view text);
// The two halves of parse_inbound, public for the differential tests and fuzzers that hold them to the same
// answer: a media message in the simple form (util/simple_json.hpp) read without a DOM, nullopt for anything
// else; and the Boost.JSON parser, which reads every message and is the reference.
std::optional<media_message> parse_media_fast(std::string_view text);
// parse_media_fast's reading without the copies: views into `text`.
std::optional<media_view> read_media_in_place(std::string_view text);
parse_result<inbound_message> parse_inbound_dom(std::string_view text);
// For the simulator and tests: what Twilio would accept (stream SID checked by the caller).
struct parsed_outbound {
  std::string stream_sid;
  outbound_message message;
};
parse_result<parsed_outbound> parse_outbound(std::string_view text);

std::string serialize_media(std::string_view stream_sid, std::string_view payload_base64);
// The same message written into `out`, replacing what it held: its capacity is reused (util/recycled_text.hpp).
void serialize_media(std::string& out, std::string_view stream_sid, std::string_view payload_base64);
std::string serialize_mark(std::string_view stream_sid, std::string_view name);
std::string serialize_clear(std::string_view stream_sid);

// Twilio's side, for the simulator.
std::string serialize_connected();
std::string serialize_start(const start_message& start);
std::string serialize_inbound_media(std::string_view stream_sid, const media_message& media);
std::string serialize_dtmf(std::string_view stream_sid, const dtmf_message& dtmf);
std::string serialize_inbound_mark(std::string_view stream_sid, const mark_message& mark);
std::string serialize_stop(std::string_view stream_sid, const stop_message& stop);

// Twilio SIDs are two letters and 32 hex digits; accept 2..64 ASCII letters and digits so a SID is always
// safe to log and to put in JSON without escaping.
bool is_valid_sid(std::string_view sid);

}  // namespace voicebridge::twilio
