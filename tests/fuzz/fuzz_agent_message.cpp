// libFuzzer: ElevenLabs Agents server messages (elevenlabs.md §1) as they arrive from the agent socket.
#include <cstdint>
#include <string_view>

#include "voicebridge/elevenlabs/agent_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = voicebridge::elevenlabs::parse_server_message(text);
  (void)parsed;
  return 0;
}
