// The calls in progress, so that a drain can end them all. Thread-safe: each call runs on its own strand,
// and a registered closer posts the hang-up there.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace voicebridge::call {

class call_registry {
 public:
  using closer = std::function<void()>;

  std::uint64_t add(closer close) {
    std::lock_guard lock(mutex_);
    calls_.emplace(++next_id_, std::move(close));
    return next_id_;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    calls_.erase(id);
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return calls_.size();
  }
  // Asks every call to end; they finish on their own strands.
  void close_all() {
    std::vector<closer> closers;
    {
      std::lock_guard lock(mutex_);
      for (auto& [id, close] : calls_) closers.push_back(close);
    }
    for (auto& close : closers) close();
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::uint64_t, closer> calls_;
  std::uint64_t next_id_ = 0;
};

}  // namespace voicebridge::call
