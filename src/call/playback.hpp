// Audio the gateway itself plays to a caller (greetings, the fallback prompt, the voicemail tone): sent in
// 20 ms frames on an absolute schedule, as an agent's audio would be played, so what the caller hears and
// when is the same as with a real agent.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <span>
#include <vector>

#include "call/agent.hpp"

namespace voicebridge::call {

// Returns once the last frame is sent, or early when `stop` becomes true.
boost::asio::awaitable<void> play_paced(const boost::asio::any_io_executor& executor, caller_link& caller,
                                        std::span<const std::uint8_t> mulaw, const bool& stop);

// Two short rising beeps (the local agent's default greeting), 8 kHz mu-law.
std::vector<std::uint8_t> make_greeting_tone();
// The voicemail tone: 1 kHz for 400 ms, after 200 ms of silence.
std::vector<std::uint8_t> make_voicemail_tone();

}  // namespace voicebridge::call
