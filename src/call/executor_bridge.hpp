// A call and an agent on different io threads: a conversation pre-warmed during the webhook lives on the io
// thread its stream's URL named, and a stream that reached another one (its URL named none, or a thread this
// process does not have) adopts it there. Each side's calls into the other are dispatched onto the other's
// executor (in order, FIFO), so each object is only ever touched from its own thread and neither needs a lock.
// On one io thread, as nearly every call is (net/call_contexts.hpp), each call is made directly (as dispatch
// would make it), without dispatch's type-erased function object and a copy of each frame.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <memory>

#include "call/agent.hpp"

namespace voicebridge::call {

// The caller as seen from the agent's thread. Holds the call weakly: audio for a call that has ended is dropped.
class caller_on_executor final : public caller_link {
 public:
  caller_on_executor(boost::asio::any_io_executor call_executor, std::weak_ptr<caller_link> caller, bool direct)
      : executor_(std::move(call_executor)), caller_(std::move(caller)), direct_(direct) {}

  void send_audio(std::string_view payload) override {
    if (direct_) return forward([payload](caller_link& c) { c.send_audio(payload); });  // no copy of the frame
    forward([payload = std::string(payload)](caller_link& c) { c.send_audio(payload); });
  }
  void send_mark(std::string name) override {
    forward([name = std::move(name)](caller_link& c) mutable { c.send_mark(std::move(name)); });
  }
  void clear_audio() override {
    forward([](caller_link& c) { c.clear_audio(); });
  }
  void hang_up() override {
    forward([](caller_link& c) { c.hang_up(); });
  }
  void transfer(const std::string& number) override {
    forward([number](caller_link& c) { c.transfer(number); });
  }
  void said(std::string_view role, std::string_view text) override {
    forward([role = std::string(role), text = std::string(text)](caller_link& c) { c.said(role, text); });
  }

 private:
  template <class F>
  void forward(F f) {
    if (direct_) {
      if (auto c = caller_.lock()) f(*c);
      return;
    }
    boost::asio::dispatch(executor_, [caller = caller_, f = std::move(f)]() mutable {
      if (auto c = caller.lock()) f(*c);
    });
  }

  boost::asio::any_io_executor executor_;
  std::weak_ptr<caller_link> caller_;
  bool direct_;
};

// The agent as seen from the call's thread: events are handed to the agent's executor; the agent holds itself
// alive while they are in flight.
class agent_on_executor {
 public:
  agent_on_executor(std::shared_ptr<agent> target, boost::asio::any_io_executor agent_executor, bool direct)
      : target_(std::move(target)), executor_(std::move(agent_executor)), direct_(direct) {}

  void on_caller_audio(std::string_view payload) {
    if (direct_) return target_->on_caller_audio(payload);  // no copy of the frame
    forward([payload = std::string(payload)](agent& a) { a.on_caller_audio(payload); });
  }
  void on_dtmf(char digit) {
    forward([digit](agent& a) { a.on_dtmf(digit); });
  }
  void on_mark(std::string_view name) {
    forward([name = std::string(name)](agent& a) { a.on_mark(name); });
  }
  void on_caller_hangup() {
    forward([](agent& a) { a.on_caller_hangup(); });
  }
  void on_context(const std::string& text) {
    forward([text](agent& a) { a.on_context(text); });
  }
  const std::shared_ptr<agent>& target() const { return target_; }
  const boost::asio::any_io_executor& executor() const { return executor_; }
  bool direct() const { return direct_; }

 private:
  template <class F>
  void forward(F f) {
    if (direct_) return f(*target_);
    boost::asio::dispatch(executor_, [target = target_, f = std::move(f)]() mutable { f(*target); });
  }

  std::shared_ptr<agent> target_;
  boost::asio::any_io_executor executor_;
  bool direct_;
};

}  // namespace voicebridge::call
