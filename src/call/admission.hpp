// Admission at the voice webhook. A call answered with <Connect><Stream> holds a slot until its stream
// starts (or `hold` passes), so a burst of webhooks cannot overshoot MAX_CALLS before the streams arrive.
// A webhook Twilio retries for the same CallSid is admitted again without a second slot. Thread-safe.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace voicebridge::call {

class admission {
 public:
  using clock = std::chrono::steady_clock;
  explicit admission(clock::duration hold = std::chrono::seconds(15)) : hold_(hold) {}

  bool try_admit(const std::string& call_sid, std::size_t active_streams, std::size_t max_calls,
                 clock::time_point now = clock::now()) {
    std::lock_guard lock(mutex_);
    expire(now);
    if (auto it = pending_.find(call_sid); it != pending_.end()) {
      it->second = now + hold_;
      return true;
    }
    if (active_streams + pending_.size() >= max_calls) return false;
    pending_.emplace(call_sid, now + hold_);
    return true;
  }
  // The call's stream has authenticated: its slot becomes an active call. False if this webhook never
  // admitted it (another instance's webhook, or the hold passed): the stream must then find room itself.
  bool stream_started(const std::string& call_sid) {
    std::lock_guard lock(mutex_);
    return pending_.erase(call_sid) > 0;
  }

 private:
  void expire(clock::time_point now) {
    std::erase_if(pending_, [&](const auto& entry) { return entry.second <= now; });
  }

  std::mutex mutex_;
  clock::duration hold_;
  std::map<std::string, clock::time_point> pending_;
};

}  // namespace voicebridge::call
