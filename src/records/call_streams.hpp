// Where each call's Media Stream is served, shared by every instance through the call store (schema:
// call_store.cpp, migration 7), so that Twilio's <Connect action> request, on whichever instance the load
// balancer picks, learns how the stream ended: closed by the gateway that served it (hang up or apologise),
// handed off by a draining instance, or lost with its instance (a fresh stream, on a live one).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace voicebridge::records {

// How a stream stands. The gateway writes `served`, `unserved` or `handed_off` *before* its close frame
// leaves, so a row still `streaming` when Twilio asks for the action is a stream its gateway did not close.
namespace stream_state {
inline constexpr std::string_view streaming = "streaming";    // an instance is serving it
inline constexpr std::string_view served = "served";          // the gateway ended it: the agent, fallback, ...
inline constexpr std::string_view unserved = "unserved";      // the gateway refused it (capacity, route gone)
inline constexpr std::string_view handed_off = "handed_off";  // a draining instance closed it (1001)
inline constexpr std::string_view ended_by_twilio = "ended_by_twilio";  // Twilio closed it: the call is over
inline constexpr std::string_view lost = "lost";  // it dropped under its live gateway (no close frame either way)
inline constexpr std::string_view reconnecting = "reconnecting";  // an action answered with a fresh stream
}  // namespace stream_state

struct call_stream {
  std::string call_sid;
  std::string instance;  // the INSTANCE_ID that serves (or served) it
  std::string route;
  std::string state{stream_state::streaming};
  // The stream's <Parameter>s (start.customParameters) but the stream token: what a fresh stream carries again.
  std::vector<std::pair<std::string, std::string>> parameters;
  unsigned reconnects = 0;  // fresh streams the call has had
  std::int64_t updated_at_ms = 0;
};

}  // namespace voicebridge::records
