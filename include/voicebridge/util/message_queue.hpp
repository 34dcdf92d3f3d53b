// A bounded single-consumer queue for one call's coroutines (chat_server's pattern: a timer that never
// expires serves as the wake-up). All users run on the call's executor, so no locking is needed.
// The items sit in a ring that grows with a burst and shrinks after it, never below a few slots, so that a
// steady flow allocates no slots (and an idle queue holds a few dozen bytes where a std::deque holds 576).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/circular_buffer.hpp>
#include <algorithm>
#include <optional>

namespace voicebridge::util {

template <class T>
class message_queue {
 public:
  message_queue(const boost::asio::any_io_executor& executor, std::size_t capacity)
      : wakeup_(executor, boost::asio::steady_timer::time_point::max()),
        items_(typename items::capacity_type(capacity, std::min<std::size_t>(capacity, min_slots))) {}

  // False (and nothing queued) when the queue is full or closed: the caller decides what a drop means.
  bool push(T item) {
    if (closed_ || items_.full()) return false;
    items_.push_back(std::move(item));
    wakeup_.cancel();
    return true;
  }
  void clear() { items_.clear(); }
  // The next item without waiting for it (nullptr when none is queued), and dropping it once looked at: what
  // a consumer that merges queued items (the Twilio writer's audio) needs.
  T* front() { return items_.empty() ? nullptr : &items_.front(); }
  void drop_front() { items_.pop_front(); }
  // After close, pop drains what is queued and then returns nullopt.
  void close() {
    closed_ = true;
    wakeup_.cancel();
  }
  bool closed() const { return closed_; }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  boost::asio::awaitable<std::optional<T>> pop() {
    while (items_.empty() && !closed_) {
      wakeup_.expires_at(boost::asio::steady_timer::time_point::max());
      co_await wakeup_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    if (items_.empty()) co_return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    co_return item;
  }

 private:
  using items = boost::circular_buffer_space_optimized<T>;
  static constexpr std::size_t min_slots = 4;
  boost::asio::steady_timer wakeup_;
  items items_;
  bool closed_ = false;
};

}  // namespace voicebridge::util
