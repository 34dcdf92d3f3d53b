#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "voicebridge/util/message_queue.hpp"

#include <string>
#include <vector>

namespace asio = boost::asio;
using voicebridge::util::message_queue;

namespace {

// Pops `count` items (or until the queue is closed and drained) into `out`.
void pop_into(asio::io_context& io, message_queue<std::string>& q, std::vector<std::string>& out, std::size_t count) {
  asio::co_spawn(io, [&q, &out, count]() -> asio::awaitable<void> {
    for (std::size_t i = 0; i < count; ++i) {
      auto item = co_await q.pop();
      if (!item) co_return;
      out.push_back(std::move(*item));
    }
  }, asio::detached);
}

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(std::to_string(i));
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(message_queue_order)

// The ring grows for a burst and shrinks as it drains; items keep their order across both, wrapped or not.
BOOST_AUTO_TEST_CASE(order_holds_through_growth_and_shrinking_and_the_capacity_is_a_hard_limit) {
  asio::io_context io;
  message_queue<std::string> q(io.get_executor(), 100);
  for (const auto& n : numbers(0, 100)) BOOST_TEST(q.push(n));
  BOOST_TEST(!q.push("one too many"));
  BOOST_TEST(q.size() == 100u);
  std::vector<std::string> popped;
  pop_into(io, q, popped, 90);
  io.run();
  io.restart();
  for (const auto& n : numbers(100, 190)) BOOST_TEST(q.push(n));  // 10 left + 90: full again, wrapped
  BOOST_TEST(!q.push("one too many"));
  q.close();
  BOOST_TEST(!q.push("after close"));
  pop_into(io, q, popped, 1000);  // drains what is queued, then sees the close
  io.run();
  BOOST_TEST(popped == numbers(0, 190));
  BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(a_waiting_pop_wakes_on_push_and_on_close) {
  asio::io_context io;
  message_queue<std::string> q(io.get_executor(), 4);
  std::vector<std::string> popped;
  pop_into(io, q, popped, 2);
  io.poll();
  BOOST_TEST(popped.empty());
  q.push("a");
  io.poll();
  BOOST_TEST(popped == std::vector<std::string>{"a"});
  q.close();
  io.run();  // the pop sees the close and the coroutine ends: run() returns
  BOOST_TEST(popped == std::vector<std::string>{"a"});
}

// A parallel group cancels a waiting writer when its sibling fails: the pop must end, with operation_aborted.
BOOST_AUTO_TEST_CASE(a_waiting_pop_ends_with_operation_aborted_when_cancelled) {
  asio::io_context io;
  message_queue<std::string> q(io.get_executor(), 4);
  asio::cancellation_signal cancel;
  std::exception_ptr ended;
  bool done = false;
  asio::co_spawn(io, [&q]() -> asio::awaitable<void> { co_await q.pop(); },
                 asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                   ended = e;
                   done = true;
                 }));
  io.poll();
  BOOST_TEST(!done);
  cancel.emit(asio::cancellation_type::terminal);
  io.poll();
  BOOST_TEST_REQUIRE(done);
  BOOST_TEST_REQUIRE(static_cast<bool>(ended));
  try {
    std::rethrow_exception(ended);
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(e.code() == asio::error::operation_aborted);
  }
  // The queue still works for the next consumer.
  q.push("after");
  std::vector<std::string> popped;
  pop_into(io, q, popped, 1);
  io.restart();
  io.run();
  BOOST_TEST(popped == std::vector<std::string>{"after"});
}

BOOST_AUTO_TEST_SUITE_END()
