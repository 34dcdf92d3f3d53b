// The pre-call webhook's answers on their way from its request (a coroutine beside the voice webhook) to
// the call's agent conversation (its own io thread, maybe another), which waits for one before it
// sends its initiation data, until the request's deadline at most. Thread-safe; entries are bounded in
// number and age (a call whose stream never came leaves one behind).
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace voicebridge::call {

// What the business's system said about the call, checked already (server/precall.hpp).
struct precall_answer {
  std::vector<std::pair<std::string, std::string>> dynamic_variables;
  std::string config_override_json;  // a JSON object, or empty
  std::vector<std::string> ignored;  // variables the answer named that the gateway sets itself (caller_number, ...)
};

class precall_answers {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::size_t max_entries = 4096;
  static constexpr std::chrono::seconds kept_for{120};

  // A request for this call is under way and ends by `deadline`: true when it is to be sent; false when one
  // is under way or answered already (Twilio retried its webhook), or the table is full (the call goes on
  // with its route's defaults).
  bool expect(const std::string& call_sid, clock::time_point deadline, clock::time_point now = clock::now()) {
    std::lock_guard lock(mutex_);
    forget_old(now);
    if (entries_.size() >= max_entries || entries_.contains(call_sid)) return false;
    entries_.emplace(call_sid, entry{deadline, now, false, std::nullopt, {}});
    return true;
  }

  // Its answer (nullopt: the route's defaults); the conversation waiting for it, if any, is woken.
  void answer(const std::string& call_sid, std::optional<precall_answer> answer) {
    std::vector<std::function<void()>> wake;
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(call_sid);
      if (it == entries_.end()) return;
      it->second.done = true;
      it->second.answer = std::move(answer);
      wake.swap(it->second.waiters);
    }
    for (auto& w : wake) w();  // outside the lock: they post to their executors
  }

  struct look {
    bool expected = false;  // no request for this call: nothing to wait for
    bool done = false;
    clock::time_point deadline{};
  };
  // Where the call's request is; when it is not done, `wake` is called once it is (on the answering thread).
  look watch(const std::string& call_sid, std::function<void()> wake) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(call_sid);
    if (it == entries_.end()) return {};
    if (!it->second.done) it->second.waiters.push_back(std::move(wake));
    return {true, it->second.done, it->second.deadline};
  }

  // The answer, once (the entry goes); nullopt when none came in time or it was not usable.
  std::optional<precall_answer> take(const std::string& call_sid) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(call_sid);
    if (it == entries_.end()) return std::nullopt;
    auto answer = std::move(it->second.answer);
    entries_.erase(it);
    return answer;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct entry {
    clock::time_point deadline, created;
    bool done = false;
    std::optional<precall_answer> answer;
    std::vector<std::function<void()>> waiters;
  };
  void forget_old(clock::time_point now) {
    for (auto it = entries_.begin(); it != entries_.end();)
      it = now - it->second.created > kept_for ? entries_.erase(it) : std::next(it);
  }

  mutable std::mutex mutex_;
  std::map<std::string, entry> entries_;
};

}  // namespace voicebridge::call
