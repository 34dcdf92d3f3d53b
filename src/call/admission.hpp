// Admission at the voice webhook. A call answered with <Connect><Stream> holds a slot until its stream
// starts (or `hold` passes), so a burst of webhooks cannot overshoot MAX_CALLS, or a route's max_calls,
// before the streams arrive. A webhook Twilio retries for the same CallSid is admitted again without a
// second slot. Thread-safe.
#pragma once
#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace voicebridge::call {

// The calls already running, and the limits, when a webhook asks for a slot.
struct room_request {
  std::size_t active_streams = 0;
  std::size_t max_calls = 0;
  std::string_view route;
  std::size_t route_active_streams = 0;
  std::optional<std::size_t> route_max_calls;
};

class admission {
 public:
  using clock = std::chrono::steady_clock;
  explicit admission(clock::duration hold = std::chrono::seconds(15)) : hold_(hold) {}

  enum class verdict { admitted, at_max_calls, at_route_max_calls };

  verdict try_admit(const std::string& call_sid, const room_request& room, clock::time_point now = clock::now()) {
    std::lock_guard lock(mutex_);
    expire(now);
    if (auto it = pending_.find(call_sid); it != pending_.end()) {
      it->second.until = now + hold_;
      return verdict::admitted;
    }
    if (room.active_streams + pending_.size() >= room.max_calls) return verdict::at_max_calls;
    if (room.route_max_calls) {
      const auto waiting = std::count_if(pending_.begin(), pending_.end(),
                                         [&](const auto& entry) { return entry.second.route == room.route; });
      if (room.route_active_streams + static_cast<std::size_t>(waiting) >= *room.route_max_calls)
        return verdict::at_route_max_calls;
    }
    pending_.emplace(call_sid, slot{now + hold_, std::string(room.route)});
    return verdict::admitted;
  }
  // The call's stream has authenticated: its slot becomes an active call. False if this webhook never
  // admitted it (another instance's webhook, or the hold passed): the stream must then find room itself.
  bool stream_started(const std::string& call_sid) {
    std::lock_guard lock(mutex_);
    return pending_.erase(call_sid) > 0;
  }

 private:
  struct slot {
    clock::time_point until;
    std::string route;
  };
  void expire(clock::time_point now) {
    std::erase_if(pending_, [&](const auto& entry) { return entry.second.until <= now; });
  }

  std::mutex mutex_;
  clock::duration hold_;
  std::map<std::string, slot> pending_;
};

}  // namespace voicebridge::call
