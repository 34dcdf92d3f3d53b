// Twilio's answering-machine verdicts on their way from the AMD webhook (an HTTP session) to the call they
// belong to (its own io thread). Thread-safe. A verdict that comes before its call's stream has started is kept
// for a while, so that a call that listens later still gets it; kept verdicts are bounded in number and age.
#pragma once
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace voicebridge::call {

class amd_results {
 public:
  // Called with the raw AnsweredBy, on the thread that delivers it: it posts to the call's executor.
  using listener = std::function<void(const std::string& answered_by)>;
  using clock = std::chrono::steady_clock;
  static constexpr std::size_t max_kept = 1024;
  static constexpr std::chrono::seconds kept_for{120};

  // Ends the call's listening when it goes (the call ended first, or its listener is replaced).
  class subscription {
   public:
    subscription() = default;
    subscription(amd_results* owner, std::string call_sid) : owner_(owner), call_sid_(std::move(call_sid)) {}
    subscription(subscription&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), call_sid_(std::move(other.call_sid_)) {}
    subscription& operator=(subscription&& other) noexcept {
      if (this != &other) {
        reset();
        owner_ = std::exchange(other.owner_, nullptr);
        call_sid_ = std::move(other.call_sid_);
      }
      return *this;
    }
    ~subscription() { reset(); }
    void reset() {
      if (auto* owner = std::exchange(owner_, nullptr)) owner->stop_listening(call_sid_);
    }

   private:
    amd_results* owner_ = nullptr;
    std::string call_sid_;
  };

  // The call listens for its verdict; one kept already is handed to `on_verdict` before this returns.
  subscription listen(const std::string& call_sid, listener on_verdict) {
    std::string kept;
    {
      std::lock_guard lock(mutex_);
      listeners_[call_sid] = on_verdict;
      if (auto it = kept_.find(call_sid); it != kept_.end()) {
        kept = std::move(it->second.first);
        kept_.erase(it);
      }
    }
    if (!kept.empty()) on_verdict(kept);  // outside the lock: the listener may post, or listen again
    return {this, call_sid};
  }

  // The verdict for `call_sid`: true when a call listening took it, false when it is kept for a call to come.
  bool deliver(const std::string& call_sid, const std::string& answered_by, clock::time_point now = clock::now()) {
    listener to_call;
    {
      std::lock_guard lock(mutex_);
      if (auto it = listeners_.find(call_sid); it != listeners_.end()) {
        to_call = it->second;
      } else {
        forget_old(now);
        kept_[call_sid] = {answered_by, now};
        order_.emplace_back(now, call_sid);
      }
    }
    if (!to_call) return false;
    to_call(answered_by);
    return true;
  }

  std::size_t kept() const {
    std::lock_guard lock(mutex_);
    return kept_.size();
  }

 private:
  void stop_listening(const std::string& call_sid) {
    std::lock_guard lock(mutex_);
    listeners_.erase(call_sid);
  }
  // Verdicts older than kept_for, and the oldest beyond max_kept, are forgotten (under the lock).
  void forget_old(clock::time_point now) {
    while (!order_.empty() && (now - order_.front().first > kept_for || order_.size() >= max_kept)) {
      auto it = kept_.find(order_.front().second);
      if (it != kept_.end() && it->second.second == order_.front().first) kept_.erase(it);
      order_.pop_front();
    }
  }

  mutable std::mutex mutex_;
  std::map<std::string, listener> listeners_;
  std::map<std::string, std::pair<std::string, clock::time_point>> kept_;
  std::deque<std::pair<clock::time_point, std::string>> order_;  // when each was kept, oldest first
};

}  // namespace voicebridge::call
