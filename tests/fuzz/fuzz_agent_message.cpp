// libFuzzer: ElevenLabs Agents server messages (Agents Platform "WebSocket" reference) as they arrive from the agent socket.
// Whatever the bytes, the parser returns a message or an error; and the per-frame fast path, when it takes a
// message, reads it exactly as Boost.JSON does.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "voicebridge/elevenlabs/agent_messages.hpp"

using namespace voicebridge::elevenlabs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto fast = parse_audio_fast(text)) {
    auto reference = parse_server_message_dom(text);
    const auto* audio = reference ? std::get_if<audio_event>(&*reference) : nullptr;
    if (!audio || audio->audio_base64 != fast->audio_base64 || audio->event_id != fast->event_id) std::abort();
  }
  auto parsed = parse_server_message(text);
  (void)parsed;
  return 0;
}
