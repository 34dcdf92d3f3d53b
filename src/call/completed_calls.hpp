// Call SIDs whose stream this instance served to its end, so the <Connect action> request can tell a
// call the gateway finished (hang up) from one whose stream never reached it (apologise). Bounded.
#pragma once
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

namespace voicebridge::call {

class completed_calls {
 public:
  explicit completed_calls(std::size_t capacity = 100'000) : capacity_(capacity) {}

  void add(const std::string& call_sid) {
    std::lock_guard lock(mutex_);
    if (!sids_.insert(call_sid).second) return;
    order_.push_back(call_sid);
    if (order_.size() > capacity_) {
      sids_.erase(order_.front());
      order_.pop_front();
    }
  }
  bool contains(const std::string& call_sid) const {
    std::lock_guard lock(mutex_);
    return sids_.contains(call_sid);
  }

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::unordered_set<std::string> sids_;
  std::deque<std::string> order_;
};

}  // namespace voicebridge::call
