// Per-call stream tokens: minted by the voice webhook, carried in a <Parameter>, checked on `start`.
// A token is "v2.<expiry unix seconds>.<base64url HMAC-SHA256(key, "v2." + call SID + "." + route + "." +
// expiry)>", so any instance holding the key verifies it without shared state, it is useless for another
// call, and the route the webhook chose (its own <Parameter>, an opaque text here) cannot be changed.
#pragma once
#include <chrono>
#include <iosfwd>
#include <string>
#include <string_view>

namespace voicebridge::twilio {

// The <Parameter> name that carries the token.
inline constexpr std::string_view stream_token_parameter = "stream_token";
// The <Parameter> that carries the route the token was minted for.
inline constexpr std::string_view route_parameter = "route";
// "true" on an outbound call placed with machine detection: its agent's first turn waits for the verdict.
inline constexpr std::string_view machine_detection_parameter = "machine_detection";
// On a fresh stream after the call's stream was lost (several instances): how many fresh streams it has had.
inline constexpr std::string_view reconnects_parameter = "reconnects";

std::string mint_stream_token(std::string_view key, std::string_view call_sid, std::string_view route,
                              std::chrono::system_clock::time_point expires_at);

enum class stream_token_status { valid, malformed, expired, bad_signature };
std::string_view to_string(stream_token_status status);
std::ostream& operator<<(std::ostream& out, stream_token_status status);

stream_token_status verify_stream_token(std::string_view key, std::string_view token, std::string_view call_sid,
                                        std::string_view route, std::chrono::system_clock::time_point now);

}  // namespace voicebridge::twilio
