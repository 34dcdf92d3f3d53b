// libFuzzer: the WebSocket frame reader (net/ws_frames.hpp) over any bytes, as either role. The first byte
// picks the role, the size bound, what a message over it does (fail or skip) and where the bytes are cut in two; what is read must not depend on the cut
// (a socket delivers a frame in pieces wherever it likes), and what is read must be within the bounds. The
// same bytes written as one frame by append_frame must read back exactly.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "net/ws_frames.hpp"

using namespace voicebridge::net;

namespace {

struct result {
  std::vector<ws_message> messages;
  bool failed = false;
  std::uint16_t code = 0;
};

result read_in_pieces(std::string_view bytes, ws_role role, std::size_t max, std::size_t cut,
                      ws_oversized oversized = ws_oversized::fail) {
  ws_frame_reader reader(role, max, oversized);
  result r;
  std::string pending(bytes.substr(0, cut));
  pending.erase(0, reader.read(pending, r.messages));
  pending += bytes.substr(cut);
  reader.read(pending, r.messages);
  r.failed = reader.failure().has_value();
  r.code = r.failed ? reader.failure()->close_code : 0;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t choice = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const ws_role role = choice & 1 ? ws_role::client : ws_role::server;
  const std::size_t max = choice & 2 ? 64 : 1 << 16;
  const ws_oversized oversized = choice & 4 ? ws_oversized::skip : ws_oversized::fail;
  const auto whole = read_in_pieces(bytes, role, max, bytes.size(), oversized);
  const auto cut = read_in_pieces(bytes, role, max, bytes.empty() ? 0 : (choice >> 3) % bytes.size(), oversized);
  if (whole.failed != cut.failed || whole.code != cut.code || whole.messages.size() != cut.messages.size()) std::abort();
  for (std::size_t i = 0; i < whole.messages.size(); ++i) {
    const auto& a = whole.messages[i];
    const auto& b = cut.messages[i];
    if (a.what != b.what || a.payload != b.payload || a.close_code != b.close_code || a.oversized != b.oversized)
      std::abort();
    if (a.oversized && (oversized == ws_oversized::fail || !a.payload.empty())) std::abort();
    const bool data = a.what == ws_message::kind::text || a.what == ws_message::kind::binary;
    if (a.payload.size() > (data ? max : 125)) std::abort();  // the bound; a control frame's own (RFC 6455, 5.5)
  }
  // The writer: the same bytes as one binary message, masked toward a server, read back exactly.
  std::string frame;
  const auto key = role == ws_role::server ? std::optional<std::uint32_t>(0x9e3779b9u * choice) : std::nullopt;
  append_frame(frame, ws_message::kind::binary, bytes, ws_fragment::whole, key);
  const auto back = read_in_pieces(frame, role, bytes.size(), frame.size() / 2);
  if (back.failed || back.messages.size() != 1 || back.messages[0].payload != bytes) std::abort();
  return 0;
}
