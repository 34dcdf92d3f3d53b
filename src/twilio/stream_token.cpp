#include "voicebridge/twilio/stream_token.hpp"

#include <charconv>
#include <ostream>

#include "voicebridge/util/base64.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::twilio {
namespace {

constexpr std::string_view version = "v2";

std::string mac_for(std::string_view key, std::string_view call_sid, std::string_view route, std::string_view expiry) {
  std::string message;
  message.append(version).append(".").append(call_sid).append(".").append(route).append(".").append(expiry);
  return util::base64url_encode(util::hmac_sha256(key, message));
}

}  // namespace

std::string mint_stream_token(std::string_view key, std::string_view call_sid, std::string_view route,
                              std::chrono::system_clock::time_point expires_at) {
  const auto expiry = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(expires_at.time_since_epoch()).count());
  return std::string(version) + "." + expiry + "." + mac_for(key, call_sid, route, expiry);
}

std::string_view to_string(stream_token_status status) {
  switch (status) {
    case stream_token_status::valid: return "valid";
    case stream_token_status::malformed: return "malformed";
    case stream_token_status::expired: return "expired";
    case stream_token_status::bad_signature: return "bad_signature";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, stream_token_status status) { return out << to_string(status); }

stream_token_status verify_stream_token(std::string_view key, std::string_view token, std::string_view call_sid,
                                        std::string_view route, std::chrono::system_clock::time_point now) {
  if (key.empty() || token.size() > 256 || !token.starts_with(version) || token.substr(2, 1) != ".")
    return stream_token_status::malformed;
  const std::string_view rest = token.substr(3);
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0) return stream_token_status::malformed;
  const std::string_view expiry = rest.substr(0, dot);
  long long expiry_seconds = 0;
  auto [end, ec] = std::from_chars(expiry.data(), expiry.data() + expiry.size(), expiry_seconds);
  if (ec != std::errc() || end != expiry.data() + expiry.size() || expiry_seconds < 0)
    return stream_token_status::malformed;
  // Check the MAC before the expiry, so an attacker learns nothing from the answer to a forged token.
  if (!util::constant_time_equal(mac_for(key, call_sid, route, expiry), rest.substr(dot + 1)))
    return stream_token_status::bad_signature;
  if (std::chrono::system_clock::time_point(std::chrono::seconds(expiry_seconds)) <= now)
    return stream_token_status::expired;
  return stream_token_status::valid;
}

}  // namespace voicebridge::twilio
