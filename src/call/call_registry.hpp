// The calls in progress, so that a drain can end them all. Thread-safe: each call runs on one io thread,
// and a registered closer posts the hang-up there.
#pragma once
#include <boost/asio/cancellation_type.hpp>
#include <cstdint>
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "call/live_call.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::call {

class call_registry {
 public:
  // How a call is asked to end, as Beast's server-flex-awaitable signals its sessions: `total` ends it as a
  // hang-up would (the Twilio stream closed with 1001, the agent's socket with 1000); `terminal`, for a call
  // still there after that, drops its sockets at once.
  using closer = std::function<void(boost::asio::cancellation_type)>;

  // `route`: the call's route, counted for its max_calls; `live`: what the console shows of it.
  std::uint64_t add(closer close, std::string route = {}, std::shared_ptr<live_call> live = nullptr) {
    std::lock_guard lock(mutex_);
    calls_.emplace(++next_id_, entry{std::move(close), std::move(route), std::move(live)});
    return next_id_;
  }
  void remove(std::uint64_t id) {
    std::function<void()> woken;
    {
      std::lock_guard lock(mutex_);
      calls_.erase(id);
      if (calls_.empty()) woken = std::move(on_empty_);
    }
    if (woken) woken();  // outside the lock: it may post, or take the lock again
  }
  // `wake` is called once, on whichever thread ends the last call, when no call is left (at once if none
  // is): what the drain waits on instead of polling.
  void when_empty(std::function<void()> wake) {
    std::unique_lock lock(mutex_);
    if (!calls_.empty()) {
      on_empty_ = std::move(wake);
      return;
    }
    lock.unlock();
    wake();
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return calls_.size();
  }
  // The calls of one route (a scan: calls are few hundred at most, and this runs once per call).
  std::size_t size(std::string_view route) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(calls_.begin(), calls_.end(), [&](const auto& call) { return call.second.route == route; }));
  }
  // The calls in progress as the console shows them, oldest first.
  std::vector<std::shared_ptr<live_call>> live_calls() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<live_call>> out;
    for (const auto& [id, call] : calls_)
      if (call.live) out.push_back(call.live);
    return out;
  }
  std::shared_ptr<live_call> find_live(std::string_view call_sid) const {
    std::lock_guard lock(mutex_);
    for (const auto& [id, call] : calls_)
      if (call.live && call.live->call_sid == call_sid) return call.live;
    return nullptr;
  }
  // Asks every call to end; they finish on their own io threads.
  void close_all(boost::asio::cancellation_type how) {
    std::vector<closer> closers;
    {
      std::lock_guard lock(mutex_);
      for (auto& [id, call] : calls_) closers.push_back(call.close);
    }
    for (auto& close : closers) close(how);
  }

 private:
  struct entry {
    closer close;
    std::string route;
    std::shared_ptr<live_call> live;
  };
  mutable std::mutex mutex_;
  std::map<std::uint64_t, entry> calls_;
  std::function<void()> on_empty_;
  std::uint64_t next_id_ = 0;
};

// One call's place in the registry and in the active_calls gauge, for exactly as long as this object lives:
// a call that ends by an exception gives both back too.
class call_registration {
 public:
  call_registration(call_registry& registry, call_registry::closer close, std::string route = {},
                    std::shared_ptr<live_call> live = nullptr)
      : registry_(registry), id_(registry.add(std::move(close), std::move(route), std::move(live))) {
    app::metrics().active_calls.inc();
  }
  call_registration(const call_registration&) = delete;
  call_registration& operator=(const call_registration&) = delete;
  ~call_registration() {
    app::metrics().active_calls.dec();
    registry_.remove(id_);
  }

 private:
  call_registry& registry_;
  std::uint64_t id_;
};

}  // namespace voicebridge::call
