#include "server/stream_end.hpp"

#include "voicebridge/twilio/stream_token.hpp"

namespace voicebridge::server {

stream_end_decision decide_stream_end(const std::optional<records::call_stream>& shared, unsigned max_reconnects) {
  using kind = stream_end_decision::kind;
  namespace state = records::stream_state;
  // No instance ever served it: the stream failed before its `start` authenticated (or Twilio could not open it).
  if (!shared) return {kind::apologise, "never_served", {}};
  const std::string_view now = shared->state;
  if (now == state::served || now == state::ended_by_twilio) return {kind::hang_up, "served", {}};
  if (now == state::unserved) return {kind::apologise, "refused", {}};
  // Its gateway stored no end before the stream closed: the instance died, or its link to Twilio broke (then
  // the gateway, still alive, marked it `lost` once it saw the drop). A
  // draining instance closes with 1001 after handing the call off. A fresh stream that never started (its
  // <Connect> ended again) is still `reconnecting`. In each case the caller is still on the line; every fresh
  // stream counts, so a call whose streams keep failing ends with the apology rather than in a loop.
  // The views returned name the constants, never the row (which the caller may not keep).
  std::string_view reason, from;
  if (now == state::streaming) reason = "lost", from = state::streaming;
  else if (now == state::lost) reason = "lost", from = state::lost;
  else if (now == state::handed_off) reason = "handed_off", from = state::handed_off;
  else if (now == state::reconnecting) reason = "fresh_stream_failed", from = state::reconnecting;
  else return {kind::apologise, "unknown_state", {}};
  if (shared->reconnects >= max_reconnects) return {kind::apologise, "too_many_reconnects", {}};
  return {kind::reconnect, reason, from};
}

fresh_stream fresh_stream_for(const records::call_stream& stream) {
  fresh_stream fresh{stream.route, {}, std::nullopt};
  for (const auto& [name, value] : stream.parameters) {
    if (name == twilio::route_parameter) fresh.grant = value;
    else fresh.parameters.emplace_back(name, value);
  }
  fresh.parameters.emplace_back(twilio::reconnects_parameter, std::to_string(stream.reconnects));
  return fresh;
}

}  // namespace voicebridge::server
