// What Twilio's <Connect action> request is answered with, on whichever instance it lands: sans-I/O, from what
// the shared call store says of the call's stream (records/call_streams.hpp), which the instance that served
// it wrote before its close frame left. Tested without sockets (tests/server/stream_end_test.cpp).
#pragma once
#include <optional>
#include <string_view>

#include "records/call_streams.hpp"

namespace voicebridge::server {

struct stream_end_decision {
  enum class kind { hang_up, apologise, reconnect } what = kind::apologise;
  std::string_view reason;  // a log word: served, never_served, refused, lost, handed_off, ...
  // reconnect: the state a fresh stream is claimed from (records::call_store::claim_reconnect).
  std::string_view claim_from;
};

stream_end_decision decide_stream_end(const std::optional<records::call_stream>& shared, unsigned max_reconnects);

}  // namespace voicebridge::server
