// libFuzzer: Twilio Media Streams messages (Twilio docs, "Media Streams - WebSocket Messages") as they arrive from the socket. Whatever the
// bytes, the parser returns a message or an error; a parsed message re-serializes and parses the same; and
// the per-frame fast path, when it takes a message, reads it exactly as Boost.JSON does.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "voicebridge/twilio/media_messages.hpp"

using namespace voicebridge::twilio;

namespace {
bool same(const media_message& a, const media_message& b) {
  return a.sequence_number == b.sequence_number && a.track == b.track && a.chunk == b.chunk &&
         a.timestamp_ms == b.timestamp_ms && a.payload == b.payload;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto fast = parse_media_fast(text)) {
    auto reference = parse_inbound_dom(text);
    if (!reference || !std::holds_alternative<media_message>(*reference) ||
        !same(*fast, std::get<media_message>(*reference)))
      std::abort();
  }
  auto parsed = parse_inbound(text);
  if (!parsed) return 0;
  if (auto* media = std::get_if<media_message>(&*parsed)) {
    auto again = parse_inbound(serialize_inbound_media("MZ1", *media));
    if (!again || std::get<media_message>(*again).payload != media->payload) std::abort();
  }
  return 0;
}
