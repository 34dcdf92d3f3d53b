// What the operator console shows of a call in progress, and what it may ask of it (end it, transfer it).
// The call updates the two times from its own io thread as audio passes; the console reads them from any
// thread, so they are atomics, and its requests are posted to the call's executor by `end` and `transfer`.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace voicebridge::call {

struct live_call {
  std::string call_sid, from, to, route, direction;
  std::int64_t started_ms = 0;  // since the epoch
  std::function<void()> end;    // as if the caller hung up; the record says who ended it
  std::function<void(std::string number)> transfer;  // to a human at an E.164 number (<Dial>)

  static constexpr std::int64_t speech_hold_ms = 300;  // a caller's pause shorter than this is still speech

  // Agent audio queued for the caller plays in real time after what is queued already (8 mu-law bytes a ms).
  void agent_audio(std::size_t mulaw_bytes, std::int64_t now_ms) {
    const auto until = std::max(agent_audible_until_ms.load(std::memory_order_relaxed), now_ms);
    agent_audible_until_ms.store(until + static_cast<std::int64_t>(mulaw_bytes / 8), std::memory_order_relaxed);
  }
  void agent_cleared(std::int64_t now_ms) { agent_audible_until_ms.store(now_ms, std::memory_order_relaxed); }
  void caller_spoke(std::int64_t now_ms) { caller_heard_at_ms.store(now_ms, std::memory_order_relaxed); }

  // "agent", "caller", "both" or "nobody", at `now_ms`.
  std::string speaking(std::int64_t now_ms) const {
    const bool agent = agent_audible_until_ms.load(std::memory_order_relaxed) > now_ms;
    const bool caller = now_ms - caller_heard_at_ms.load(std::memory_order_relaxed) < speech_hold_ms;
    return agent && caller ? "both" : agent ? "agent" : caller ? "caller" : "nobody";
  }

 private:
  std::atomic<std::int64_t> agent_audible_until_ms{0};
  std::atomic<std::int64_t> caller_heard_at_ms{0};
};

}  // namespace voicebridge::call
