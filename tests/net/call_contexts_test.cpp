// Where calls run: connections and pre-warmed conversations spread over the io threads in turn.
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <array>
#include <thread>

#include "net/call_contexts.hpp"

using voicebridge::net::call_contexts;

BOOST_AUTO_TEST_SUITE(call_placement_turns)

BOOST_AUTO_TEST_CASE(each_io_context_takes_its_turn_and_one_alone_is_never_named) {
  boost::asio::io_context a, b, c;
  call_contexts three({&a, &b, &c});
  BOOST_TEST(three.size() == 3u);
  std::array<unsigned, 3> picked{};
  for (int i = 0; i < 9; ++i) ++picked.at(three.next());
  BOOST_TEST((picked == std::array<unsigned, 3>{3, 3, 3}));
  BOOST_TEST(&three.at(1) == &b);
  BOOST_TEST(three.next_to_name().has_value());

  call_contexts one({&a});
  BOOST_TEST(!one.next_to_name().has_value());  // no io_N in a stream URL with one thread
  BOOST_TEST(one.next() == 0u);
  BOOST_TEST(&one.at(5) == &a);  // an index past the end wraps round (the upgrade takes only names it has)
}

BOOST_AUTO_TEST_CASE(turns_taken_from_two_threads_at_once_stay_even) {
  boost::asio::io_context a, b;
  call_contexts two({&a, &b});
  std::array<std::array<unsigned, 2>, 2> picked{};
  std::thread other([&] {
    for (int i = 0; i < 10000; ++i) ++picked[1].at(two.next());
  });
  for (int i = 0; i < 10000; ++i) ++picked[0].at(two.next());
  other.join();
  BOOST_TEST(picked[0][0] + picked[1][0] == 10000u);
  BOOST_TEST(picked[0][1] + picked[1][1] == 10000u);
}

BOOST_AUTO_TEST_SUITE_END()
