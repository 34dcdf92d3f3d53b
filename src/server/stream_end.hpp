// What Twilio's <Connect action> request is answered with, on whichever instance it lands: sans-I/O, from what
// the shared call store says of the call's stream (records/call_streams.hpp), which the instance that served
// it wrote before its close frame left. Tested without sockets (tests/server/stream_end_test.cpp).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "records/call_streams.hpp"

namespace voicebridge::server {

struct stream_end_decision {
  enum class kind { hang_up, apologise, reconnect } what = kind::apologise;
  std::string_view reason;  // a log word: served, never_served, refused, lost, handed_off, ...
  // reconnect: the state a fresh stream is claimed from (records::call_store::claim_reconnect).
  std::string_view claim_from;
};

stream_end_decision decide_stream_end(const std::optional<records::call_stream>& shared, unsigned max_reconnects);

// What a fresh stream for the call of `stream` (a row claimed for it) carries: the route its first stream was
// granted (the route <Parameter>: "name", or "name/voicemail" after hours; the route's name for a row stored
// without it), and the call's other parameters with the count of fresh streams. The answer's TwiML and the
// pre-warm both take it, so the conversation made ready is the one the stream will find.
struct fresh_stream {
  std::string grant;
  std::vector<std::pair<std::string, std::string>> parameters;
  std::optional<unsigned> call_context;  // the io thread its URL names (net/call_contexts.hpp)
};
fresh_stream fresh_stream_for(const records::call_stream& stream);

}  // namespace voicebridge::server
