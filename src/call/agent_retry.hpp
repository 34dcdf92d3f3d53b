// Whether a call tries its agent again before the fallback prompt, and after how long. Sans-I/O: the call's
// agent loop reports how each attempt ended and carries out the answer; unit-tested without sockets.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

#include "call/agent.hpp"

namespace voicebridge::call {

struct agent_retry_settings {
  // An agent unreachable within this long (refused, reset, 5xx, closed early) is tried once more at once: most
  // such failures are momentary. A slower failure (a connect timeout) is not: the caller would wait twice.
  std::chrono::milliseconds fast_failure_window{1000};
  // A 429 (ElevenLabs API reference, "Errors": `too_many_concurrent_requests` or `system_busy`, to be retried
  // with backoff) is retried with exponential backoff and jitter instead of at once, starting here...
  std::chrono::milliseconds first_backoff{200};
  // ...as long as the wait ends this long after the first attempt began: with attempts that fail in
  // milliseconds, the fallback prompt then starts within about 1.5 s of `start`, under the 2 s the caller may
  // wait in silence.
  std::chrono::milliseconds backoff_budget{1500};
};

class agent_retry_policy {
 public:
  explicit agent_retry_policy(agent_retry_settings settings = {}, std::uint32_t seed = std::random_device{}())
      : settings_(settings), random_(spread(seed)) {}

  // An attempt ended with `end`, `elapsed` after the first attempt began. A wait: connect a fresh agent after it
  // (zero: at once); nullopt: no more attempts (served, refused, failed mid-call, or out of time).
  std::optional<std::chrono::milliseconds> after(agent_end end, std::chrono::milliseconds elapsed) {
    ++attempts_;
    if (end == agent_end::unreachable) {
      if (attempts_ == 1 && elapsed < settings_.fast_failure_window) return std::chrono::milliseconds(0);
      return std::nullopt;
    }
    if (end != agent_end::rate_limited) return std::nullopt;
    // Equal jitter: half the backoff, plus up to the other half at random, so calls refused together do not
    // come back together.
    const auto backoff = settings_.first_backoff * (1 << std::min(rate_limited_retries_, 10));
    std::uniform_int_distribution<std::int64_t> jitter(0, backoff.count() / 2);
    const auto wait = std::chrono::milliseconds(backoff.count() - backoff.count() / 2 + jitter(random_));
    if (elapsed + wait > settings_.backoff_budget) return std::nullopt;
    ++rate_limited_retries_;
    return wait;
  }

 private:
  // minstd_rand's first outputs from nearby seeds are nearly equal: the seed is mixed first (the finaliser of
  // MurmurHash3), so that nearby seeds jitter differently.
  static std::uint32_t spread(std::uint32_t x) {
    x ^= x >> 16;
    x *= 0x85ebca6bU;
    x ^= x >> 13;
    x *= 0xc2b2ae35U;
    x ^= x >> 16;
    return x % 2147483646U + 1;  // minstd_rand's seeds are 1 .. 2^31-2
  }

  agent_retry_settings settings_;
  std::minstd_rand random_;
  int attempts_ = 0;
  int rate_limited_retries_ = 0;
};

}  // namespace voicebridge::call
