// Sixteen bytes tested at once, for the scans every frame's payload goes through (the JSON string scan and
// base64 validation): two payloads of ~216 characters per round trip. A byte-at-a-time loop costs ~4
// instructions per character, and the compiler vectorises it only at -O3 and then with a long scalar tail.
// The generic vector types of GCC and Clang compile to SSE2 on x86-64, NEON on arm64 and plain code elsewhere.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace voicebridge::util::blocks {

constexpr std::size_t width = 16;
using block = unsigned char __attribute__((vector_size(width)));

inline block load(const char* p) {
  block b;
  std::memcpy(&b, p, width);
  return b;
}

// A comparison of blocks yields lanes of 0 or -1 in a signed vector type; as a block: 0x00 or 0xFF.
template <typename Mask>
block lanes(Mask m) {
  return std::bit_cast<block>(m);
}

inline block in_range(block b, unsigned char low, unsigned char high) {
  return lanes(b - low <= static_cast<unsigned char>(high - low));
}

inline block equal(block b, unsigned char c) { return lanes(b == c); }

// The index of the first lane set in a mask, or `width` when none is.
inline std::size_t first_set(block mask) {
  std::uint64_t half[2];
  std::memcpy(half, &mask, width);
  for (std::size_t i = 0; i < 2; ++i) {
    if (!half[i]) continue;
    const int bits = std::endian::native == std::endian::little ? std::countr_zero(half[i]) : std::countl_zero(half[i]);
    return i * 8 + static_cast<std::size_t>(bits) / 8;
  }
  return width;
}

inline bool any(block mask) {
  std::uint64_t half[2];
  std::memcpy(half, &mask, width);
  return (half[0] | half[1]) != 0;
}

}  // namespace voicebridge::util::blocks
