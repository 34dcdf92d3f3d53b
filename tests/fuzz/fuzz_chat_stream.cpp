// libFuzzer: an LLM's streamed answer (Server-Sent Events of Chat Completions chunks) as it arrives in pieces:
// the SSE parser, the chunk parser, tool-call assembly and phrase chunking. The first byte picks where the
// stream is split between two reads; the events must not depend on it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "voicebridge/llm/chat_messages.hpp"

using namespace voicebridge::llm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t split = stream.empty() ? 0 : data[0] % (stream.size() + 1);

  sse_parser whole(4096), pieces(4096);
  std::vector<std::string> events, pieced;
  const bool whole_ok = whole.feed(stream, events);
  const bool pieces_ok = pieces.feed(stream.substr(0, split), pieced) && pieces.feed(stream.substr(split), pieced);
  if (whole_ok != pieces_ok || (whole_ok && events != pieced)) std::abort();

  phrase_chunker chunker;
  tool_call_builder tools;
  for (const auto& event : events) {
    auto delta = parse_chat_chunk(event);
    if (!delta) continue;
    if (auto phrase = chunker.add(delta->content); phrase && (phrase->empty() || phrase->back() != ' ')) std::abort();
    for (const auto& t : delta->tool_calls) tools.add(t);
  }
  if (auto rest = chunker.finish(); rest && rest->back() != ' ') std::abort();
  (void)tools.take();
  return 0;
}
