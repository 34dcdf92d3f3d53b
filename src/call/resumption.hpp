// A call resumed on a fresh stream after its instance died: what its new agent is told of the conversation so
// far (ElevenLabs Agents WebSocket API, "contextual_update"). Sans-I/O.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "records/call_record.hpp"

namespace voicebridge::call {

// The lines as "Caller: ..." / "Agent: ...", the latest that fit in `max_bytes` (older ones dropped first, whole
// lines only), after one sentence saying the call was cut off. Empty when there are no lines.
std::string resumption_context(const std::vector<records::transcript_line>& lines, std::size_t max_bytes = 4000);

}  // namespace voicebridge::call
