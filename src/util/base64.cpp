// Table-driven base64; strict on input because payloads come from the network.
#include "voicebridge/util/base64.hpp"

#include <array>

#include "util/byte_blocks.hpp"

namespace voicebridge::util {
namespace {

constexpr std::string_view std_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_reverse(std::string_view alphabet) {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr auto std_reverse = make_reverse(std_alphabet);
constexpr auto url_reverse = make_reverse(url_alphabet);

std::string encode(std::span<const std::uint8_t> in, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t v = in[i] << 16;
    if (rest == 2) v |= in[i + 1] << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

// Decodes unpadded base64 text of length % 4 != 1; bits beyond the last byte must be zero.
std::optional<std::vector<std::uint8_t>> decode_unpadded(std::string_view text,
                                                         const std::array<std::int8_t, 256>& rev) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = rev[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return out;
}

std::size_t padding_of(std::string_view text) {
  if (text.ends_with("==")) return 2;
  if (text.ends_with('=')) return 1;
  return 0;
}

}  // namespace

int base64_value(char c) { return std_reverse[static_cast<unsigned char>(c)]; }

std::string base64_encode(std::span<const std::uint8_t> bytes) { return encode(bytes, std_alphabet, true); }

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  text.remove_suffix(padding_of(text));
  return decode_unpadded(text, std_reverse);
}

bool is_valid_base64(std::string_view text) {
  if (text.size() % 4 != 0) return false;
  const std::size_t pad = padding_of(text);
  text.remove_suffix(pad);
  // Every frame's payload passes here: sixteen characters at a time, then the rest one by one.
  using namespace blocks;
  block bad_lanes{};
  std::size_t i = 0;
  for (; i + width <= text.size(); i += width) {
    const block b = load(text.data() + i);
    bad_lanes |= ~(in_range(b, 'A', 'Z') | in_range(b, 'a', 'z') | in_range(b, '0', '9') | equal(b, '+') | equal(b, '/'));
  }
  if (any(bad_lanes)) return false;
  for (; i < text.size(); ++i)
    if (std_reverse[static_cast<unsigned char>(text[i])] < 0) return false;
  if (pad == 0) return true;
  // The bits that padding leaves unused must be zero, as in base64_decode.
  const int last = std_reverse[static_cast<unsigned char>(text.back())];
  return (last & (pad == 2 ? 0x0F : 0x03)) == 0;
}

std::size_t base64_decoded_size(std::string_view text) { return text.size() / 4 * 3 - padding_of(text); }

std::string base64url_encode(std::span<const std::uint8_t> bytes) { return encode(bytes, url_alphabet, false); }

std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text) {
  return decode_unpadded(text, url_reverse);
}

}  // namespace voicebridge::util
