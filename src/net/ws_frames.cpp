#include "net/ws_frames.hpp"

#include <algorithm>
#include <cstring>

#include "util/utf8.hpp"

namespace voicebridge::net {
namespace {

// RFC 6455, section 5.2: opcodes.
constexpr std::uint8_t op_continuation = 0x0, op_text = 0x1, op_binary = 0x2, op_close = 0x8, op_ping = 0x9, op_pong = 0xA;

// Section 7.4.1 and 7.4.2: the codes a close frame may carry. 1004-1006 and 1015 are reserved (never sent),
// 1016-2999 are for future RFCs, 3000-4999 for libraries, frameworks and applications. 1014 is not taken:
// Beast, whose behaviour the gateway keeps, refuses it too.
bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1013);
}

std::size_t expected_length(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// The bytes after `lead` so far (fewer than the sequence needs) could still become a well-formed sequence.
bool could_complete(std::string_view tail) {
  const auto lead = static_cast<unsigned char>(tail[0]);
  if (expected_length(lead) == 0 || tail.size() >= expected_length(lead)) return false;
  for (std::size_t i = 1; i < tail.size(); ++i) {
    const auto b = static_cast<unsigned char>(tail[i]);
    unsigned char low = 0x80, high = 0xBF;
    if (i == 1 && lead == 0xE0) low = 0xA0;
    if (i == 1 && lead == 0xED) high = 0x9F;
    if (i == 1 && lead == 0xF0) low = 0x90;
    if (i == 1 && lead == 0xF4) high = 0x8F;
    if (b < low || b > high) return false;
  }
  return true;
}

// Eight bytes at a time where eight remain: masking and the ASCII check run over every byte the caller sends.
constexpr std::uint64_t high_bits = 0x8080808080808080ull;

std::uint64_t load8(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// Section 5.3: byte i of a payload is XORed with byte i % 4 of the key (i counted from the payload's start).
void apply_mask(char* data, std::size_t n, const char key[4]) {
  char key8[8];
  std::memcpy(key8, key, 4);
  std::memcpy(key8 + 4, key, 4);
  const std::uint64_t k = load8(key8);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t w = load8(data + i) ^ k;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < n; ++i) data[i] ^= key[i % 4];
}

}  // namespace

std::ptrdiff_t utf8_valid_prefix(std::string_view text, bool more_follows) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 8 <= text.size() && (load8(text.data() + i) & high_bits) == 0) {
      i += 8;
      continue;
    }
    const auto ascii = static_cast<unsigned char>(text[i]) < 0x80;
    const std::size_t n = ascii ? 1 : util::utf8_sequence_length(text.substr(i));
    if (n == 0) return more_follows && could_complete(text.substr(i)) ? static_cast<std::ptrdiff_t>(i) : -1;
    i += n;
  }
  return static_cast<std::ptrdiff_t>(i);
}

void append_frame(std::string& out, ws_message::kind what, std::string_view payload, ws_fragment part,
                  std::optional<std::uint32_t> mask_key, std::uint16_t close_code) {
  using kind = ws_message::kind;
  const bool continuation = part == ws_fragment::middle || part == ws_fragment::last;
  const bool fin = part == ws_fragment::whole || part == ws_fragment::last;
  const std::uint8_t opcode = continuation       ? op_continuation
                              : what == kind::text   ? op_text
                              : what == kind::binary ? op_binary
                              : what == kind::close  ? op_close
                              : what == kind::ping   ? op_ping
                                                     : op_pong;
  // The body is the payload, after a close frame's two-byte code: written straight after the header, with no
  // copy of its own (this runs for every frame the gateway sends).
  const bool with_code = what == kind::close && close_code != 0;
  const char code_bytes[2] = {static_cast<char>(close_code >> 8), static_cast<char>(close_code & 0xFF)};
  const std::uint64_t n = payload.size() + (with_code ? 2 : 0);
  const unsigned char mask_bit = mask_key ? 0x80 : 0;
  out += static_cast<char>((fin ? 0x80 : 0) | opcode);
  if (n < 126) {
    out += static_cast<char>(mask_bit | n);
  } else if (n < 65536) {
    out += static_cast<char>(mask_bit | 126);
    for (int shift = 8; shift >= 0; shift -= 8) out += static_cast<char>(n >> shift & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>(n >> shift & 0xFF);
  }
  const std::uint32_t k = mask_key.value_or(0);
  const char key[4] = {static_cast<char>(k >> 24), static_cast<char>(k >> 16), static_cast<char>(k >> 8), static_cast<char>(k)};
  if (mask_key) out.append(key, 4);
  const std::size_t body_at = out.size();
  if (with_code) out.append(code_bytes, 2);
  out += payload;
  if (mask_key) apply_mask(out.data() + body_at, n, key);
}

std::size_t ws_frame_reader::fail(std::uint16_t code, std::string reason) {
  failure_ = ws_failure{code, std::move(reason)};
  return 0;
}

bool ws_frame_reader::text_so_far_ok(bool final_fragment) {
  const auto valid = utf8_valid_prefix(std::string_view(message_).substr(utf8_checked_), !final_fragment);
  if (valid < 0) return false;
  utf8_checked_ += static_cast<std::size_t>(valid);
  return true;
}

// The payload of a skipped frame, as much of it as `bytes` holds; its message ends with its last frame.
std::size_t ws_frame_reader::skip(std::string_view bytes) {
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_left_, bytes.size()));
  skip_left_ -= n;
  if (skip_left_ == 0 && skip_fin_) in_message_ = skipping_message_ = skip_fin_ = false;
  return n;
}

std::size_t ws_frame_reader::read(std::string_view bytes, std::vector<ws_message>& out) {
  std::size_t used = 0;
  while (!failure_) {
    if (skip_left_ > 0 || skip_fin_) {
      used += skip(bytes.substr(used));
      if (skip_left_ > 0) break;
    }
    const std::string_view rest = bytes.substr(used);
    if (rest.size() < 2) break;
    const auto b0 = static_cast<unsigned char>(rest[0]), b1 = static_cast<unsigned char>(rest[1]);
    const bool fin = b0 & 0x80, masked = b1 & 0x80;
    const std::uint8_t opcode = b0 & 0x0F;
    const bool control = opcode & 0x08;
    std::uint64_t length = b1 & 0x7F;
    const std::size_t length_bytes = length == 126 ? 2 : length == 127 ? 8 : 0;
    const std::size_t header = 2 + length_bytes + (masked ? 4 : 0);
    if (rest.size() < header) break;
    // Section 5.2: the checks a frame's first two bytes allow, in the order Beast makes them.
    if (opcode == op_text || opcode == op_binary) {
      if (in_message_) return used + fail(1002, "a data frame inside a fragmented message");
    } else if (opcode == op_continuation) {
      if (!in_message_) return used + fail(1002, "a continuation frame outside a fragmented message");
    } else if (opcode != op_close && opcode != op_ping && opcode != op_pong) {
      return used + fail(1002, "a reserved opcode");
    } else if (!fin) {
      return used + fail(1002, "a fragmented control frame");
    } else if (length > 125) {
      return used + fail(1002, "a control frame over 125 bytes");
    }
    if (b0 & 0x70) return used + fail(1002, "reserved bits set without an extension");
    if (role_ == ws_role::server && !masked) return used + fail(1002, "an unmasked frame from the client");
    if (role_ == ws_role::client && masked) return used + fail(1002, "a masked frame from the server");
    if (length_bytes > 0) {
      length = 0;
      for (std::size_t i = 0; i < length_bytes; ++i) length = length << 8 | static_cast<unsigned char>(rest[2 + i]);
      if ((length_bytes == 2 && length < 126) || (length_bytes == 8 && length < 65536))
        return used + fail(1002, "a length not in its shortest form");
      if (length_bytes == 8 && (length >> 63)) return used + fail(1002, "a length with its top bit set");
    }
    if (!control && (skipping_message_ || length > max_message_ - std::min(max_message_, message_.size()))) {
      if (oversized_ == ws_oversized::fail) return used + fail(1009, "a message over the size limit");
      if (opcode != op_continuation) message_kind_ = opcode == op_text ? ws_message::kind::text : ws_message::kind::binary;
      if (!skipping_message_) out.push_back({message_kind_, {}, 0, true});  // reported once, as it begins
      in_message_ = skipping_message_ = true;
      message_ = {};  // what was kept of it goes, memory and all
      utf8_checked_ = 0;
      used += header;
      skip_left_ = length;
      skip_fin_ = fin;
      continue;
    }
    if (rest.size() - header < length) break;  // the payload is not all here yet
    // The payload, unmasked (section 5.3) as it is appended: a data frame's straight onto its message.
    const std::string_view wire = rest.substr(header, static_cast<std::size_t>(length));
    const char* key = masked ? rest.data() + header - 4 : nullptr;
    const auto append_unmasked = [&](std::string& to) {
      const std::size_t from = to.size();
      to += wire;
      if (key) apply_mask(to.data() + from, wire.size(), key);
    };
    used += header + static_cast<std::size_t>(length);

    if (control) {
      std::string payload;
      append_unmasked(payload);
      ws_message m;
      m.what = opcode == op_close ? ws_message::kind::close : opcode == op_ping ? ws_message::kind::ping : ws_message::kind::pong;
      if (opcode == op_close) {
        // Section 5.5.1: no body, or a two-byte code and a UTF-8 reason.
        if (payload.size() == 1) return used + fail(1002, "a close frame with a one-byte body");
        if (payload.size() >= 2) {
          m.close_code = static_cast<std::uint16_t>(static_cast<unsigned char>(payload[0]) << 8 | static_cast<unsigned char>(payload[1]));
          if (!valid_close_code(m.close_code)) return used + fail(1002, "a close code that may not be sent");
          payload.erase(0, 2);
          // A protocol error, as Beast answers it (RFC 6455 names no code for it).
          if (utf8_valid_prefix(payload, false) < 0) return used + fail(1002, "a close reason that is not UTF-8");
        }
      }
      m.payload = std::move(payload);
      out.push_back(std::move(m));
      continue;
    }
    if (opcode != op_continuation) {
      in_message_ = true;
      message_kind_ = opcode == op_text ? ws_message::kind::text : ws_message::kind::binary;
      message_.clear();
      utf8_checked_ = 0;
    }
    append_unmasked(message_);
    if (message_kind_ == ws_message::kind::text && !text_so_far_ok(fin)) return used + fail(1007, "text that is not UTF-8");
    if (fin) {
      in_message_ = false;
      out.push_back({message_kind_, std::move(message_), 0});
      message_.clear();
      utf8_checked_ = 0;
    }
  }
  return used;
}

}  // namespace voicebridge::net
