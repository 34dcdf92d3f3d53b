// Standard base64 (RFC 4648 §4, with padding), as used by Twilio and ElevenLabs audio payloads.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace voicebridge::util {

std::string base64_encode(std::span<const std::uint8_t> bytes);
inline std::string base64_encode(std::string_view bytes) {
  return base64_encode({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

// Strict decode: canonical alphabet, length a multiple of 4, padding only at the end.
// Returns nullopt on any malformed input.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

// The 6 bits one character of the standard alphabet stands for; -1 for any other character (padding too).
int base64_value(char c);
// Cheap check for pass-through payloads: true iff base64_decode would succeed.
bool is_valid_base64(std::string_view text);

// Number of bytes `text` decodes to; only meaningful when is_valid_base64(text).
std::size_t base64_decoded_size(std::string_view text);

// URL-safe alphabet without padding (RFC 4648 §5), for tokens.
std::string base64url_encode(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

}  // namespace voicebridge::util
