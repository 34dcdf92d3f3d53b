// The pre-call answers between the webhook's request and the agent conversation that waits for them.
#include <boost/test/unit_test.hpp>
#include <thread>

#include "call/precall_answers.hpp"

using namespace voicebridge::call;
using clock_type = precall_answers::clock;

BOOST_AUTO_TEST_SUITE(precall_answer_handover)

BOOST_AUTO_TEST_CASE(a_call_without_a_request_waits_for_nothing) {
  precall_answers answers;
  bool woken = false;
  BOOST_TEST(!answers.watch("CA1", [&] { woken = true; }).expected);
  BOOST_TEST(!answers.take("CA1"));
  answers.answer("CA1", precall_answer{});  // an answer nobody expects is dropped
  BOOST_TEST(answers.size() == 0u);
  BOOST_TEST(!woken);
}

BOOST_AUTO_TEST_CASE(the_waiting_conversation_is_woken_once_with_the_answer) {
  precall_answers answers;
  const auto deadline = clock_type::now() + std::chrono::milliseconds(1500);
  BOOST_TEST(answers.expect("CA1", deadline));
  BOOST_TEST(!answers.expect("CA1", deadline + std::chrono::seconds(1)));  // a retried webhook: asked once
  int woken = 0;
  const auto look = answers.watch("CA1", [&] { ++woken; });
  BOOST_TEST(look.expected);
  BOOST_TEST(!look.done);
  BOOST_TEST((look.deadline == deadline));
  std::thread answering([&] { answers.answer("CA1", precall_answer{{{"name", "Ada"}}, ""}); });
  answering.join();
  BOOST_TEST(woken == 1);
  BOOST_TEST(answers.watch("CA1", [&] { ++woken; }).done);  // done: no second wake-up is kept
  const auto taken = answers.take("CA1");
  BOOST_REQUIRE(taken);
  BOOST_TEST(taken->dynamic_variables.at(0).second == "Ada");
  BOOST_TEST(!answers.take("CA1"));  // once
  BOOST_TEST(woken == 1);
}

BOOST_AUTO_TEST_CASE(a_failed_request_answers_the_defaults) {
  precall_answers answers;
  answers.expect("CA1", clock_type::now());
  answers.answer("CA1", std::nullopt);
  BOOST_TEST(answers.watch("CA1", [] {}).done);
  BOOST_TEST(!answers.take("CA1"));
  BOOST_TEST(answers.size() == 0u);
}

BOOST_AUTO_TEST_CASE(entries_left_behind_are_bounded_in_age_and_number) {
  precall_answers answers;
  const auto t0 = clock_type::now();
  answers.expect("CA-old", t0, t0);
  answers.expect("CA-new", t0, t0 + precall_answers::kept_for + std::chrono::seconds(1));
  BOOST_TEST(!answers.watch("CA-old", [] {}).expected);
  BOOST_TEST(answers.size() == 1u);
  for (std::size_t i = 0; i < precall_answers::max_entries + 10; ++i) answers.expect("CA" + std::to_string(i), t0, t0 + precall_answers::kept_for + std::chrono::seconds(2));
  BOOST_TEST(answers.size() == precall_answers::max_entries);
}

BOOST_AUTO_TEST_SUITE_END()
