// libFuzzer: Twilio Media Streams messages (twilio.md §5) as they arrive from the socket. Whatever the
// bytes, the parser returns a message or an error; a parsed message re-serializes and parses the same.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "voicebridge/twilio/media_messages.hpp"

using namespace voicebridge::twilio;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_inbound(text);
  if (!parsed) return 0;
  if (auto* media = std::get_if<media_message>(&*parsed)) {
    auto again = parse_inbound(serialize_inbound_media("MZ1", *media));
    if (!again || std::get<media_message>(*again).payload != media->payload) std::abort();
  }
  return 0;
}
