// Thin wrappers over OpenSSL for the few primitives the gateway needs.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace voicebridge::util {

std::array<std::uint8_t, 20> hmac_sha1(std::string_view key, std::string_view message);
std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view message);
std::array<std::uint8_t, 32> sha256(std::string_view data);
std::string hex_lower(std::string_view bytes);
// The bytes that hex text (either case) spells; nullopt for an odd length or a character that is not hex.
std::optional<std::string> from_hex(std::string_view hex);

// `bytes` bytes from OpenSSL's CSPRNG, as lowercase hex: identifiers nobody can guess. Throws if it fails.
std::string random_hex(std::size_t bytes);

// Compares in time independent of where the inputs differ (lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace voicebridge::util
