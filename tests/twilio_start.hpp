// A Media Streams `start` as Twilio sends one for a call: 8 kHz mono mu-law on the inbound track, the stream
// token in its custom parameters.
#pragma once
#include <string>

#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"

namespace voicebridge::testing {

inline constexpr const char* test_call_sid = "CA0123456789abcdef0123456789abcdef";
inline constexpr const char* test_stream_sid = "MZ0123456789abcdef0123456789abcdef";

inline twilio::start_message mulaw_start(std::string stream_token) {
  twilio::start_message start;
  start.call_sid = test_call_sid;
  start.stream_sid = test_stream_sid;
  start.tracks = {"inbound"};
  start.encoding = "audio/x-mulaw";
  start.sample_rate = 8000;
  start.channels = 1;
  start.custom_parameters.emplace_back(std::string(twilio::stream_token_parameter), std::move(stream_token));
  return start;
}

}  // namespace voicebridge::testing
