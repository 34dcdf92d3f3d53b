// A callback that is set after the object that calls it was made, and cleared before what it reaches goes
// away: thread-safe, so that a worker thread (the record writer) may call it while the owner sets or clears it.
#pragma once
#include <functional>
#include <mutex>

namespace voicebridge::util {

class late_callback {
 public:
  void set(std::function<void()> f) {
    std::lock_guard lock(mutex_);
    f_ = std::move(f);
  }
  void operator()() {
    std::lock_guard lock(mutex_);
    if (f_) f_();
  }

 private:
  std::mutex mutex_;
  std::function<void()> f_;
};

}  // namespace voicebridge::util
