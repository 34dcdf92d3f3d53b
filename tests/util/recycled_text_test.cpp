#include <boost/test/unit_test.hpp>
#include <thread>
#include <vector>

#include "util/recycled_text.hpp"

using namespace voicebridge::util;

namespace {
// Empties this thread's list, so that each test starts from nothing.
void drain() {
  while (recycled_text_count() > 0) (void)recycled_text();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(recycled_text_reuse)

BOOST_AUTO_TEST_CASE(a_string_given_back_is_handed_out_again_empty_with_its_memory) {
  drain();
  std::string message(400, 'x');
  const char* memory = message.data();
  const auto capacity = message.capacity();
  recycle_text(std::move(message));
  BOOST_TEST(recycled_text_count() == 1u);
  std::string next = recycled_text();
  BOOST_TEST(next.empty());
  BOOST_TEST(next.capacity() == capacity);
  BOOST_TEST(static_cast<const void*>(next.data()) == static_cast<const void*>(memory));
  BOOST_TEST(recycled_text_count() == 0u);
  BOOST_TEST(recycled_text().capacity() <= std::string().capacity());  // none left: a new, empty string
}

BOOST_AUTO_TEST_CASE(keeps_at_most_max_recycled_texts) {
  drain();
  for (std::size_t i = 0; i < max_recycled_texts + 10; ++i) recycle_text(std::string(100, 'a'));
  BOOST_TEST(recycled_text_count() == max_recycled_texts);
  drain();
}

BOOST_AUTO_TEST_CASE(frees_a_large_string_and_one_with_nothing_on_the_heap) {
  drain();
  recycle_text(std::string(max_recycled_capacity + 1, 'a'));  // a rare large message is not held
  recycle_text(std::string("short"));                         // inline: nothing to reuse
  BOOST_TEST(recycled_text_count() == 0u);
}

BOOST_AUTO_TEST_CASE(each_thread_has_its_own_list) {
  drain();
  recycle_text(std::string(100, 'a'));
  std::size_t seen_there = 1;
  std::thread([&] { seen_there = recycled_text_count(); }).join();
  BOOST_TEST(seen_there == 0u);
  BOOST_TEST(recycled_text_count() == 1u);
  drain();
}

BOOST_AUTO_TEST_SUITE_END()
