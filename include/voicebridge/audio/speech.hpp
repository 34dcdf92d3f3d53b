// Local text-to-speech with espeak-ng, for the prompts the gateway speaks itself (the fallback prompt when
// the agent cannot answer, the local agent's greeting): no cloud account, no network, at start-up only.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "voicebridge/util/result.hpp"

namespace voicebridge::audio {

// `text` spoken in `language` (an espeak-ng voice name: "en", "en-us", "de", ...), as 8 kHz mono mu-law.
// Errors name the language or what espeak-ng reported. Thread-safe (espeak-ng itself is not: calls are
// serialised).
util::result<std::vector<std::uint8_t>> synthesize_mulaw(const std::string& text, const std::string& language);

}  // namespace voicebridge::audio
