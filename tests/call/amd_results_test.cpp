// AMD verdicts between the webhook and the call: delivered to the call listening, kept for a call whose
// stream has not started yet, forgotten when old or too many, and never delivered to a call that has gone.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "call/amd_results.hpp"

using voicebridge::call::amd_results;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(amd_verdicts)

BOOST_AUTO_TEST_CASE(a_verdict_reaches_the_call_listening_for_it_and_no_other) {
  amd_results results;
  std::vector<std::string> a, b;
  auto sub_a = results.listen("CA1", [&](const std::string& v) { a.push_back(v); });
  auto sub_b = results.listen("CA2", [&](const std::string& v) { b.push_back(v); });
  BOOST_TEST(results.deliver("CA1", "human"));
  BOOST_TEST(a == std::vector<std::string>{"human"});
  BOOST_TEST(b.empty());
  BOOST_TEST(results.kept() == 0u);
}

BOOST_AUTO_TEST_CASE(a_verdict_before_the_stream_is_kept_and_handed_over_when_the_call_listens) {
  amd_results results;
  BOOST_TEST(!results.deliver("CA1", "machine_end_beep"));
  BOOST_TEST(results.kept() == 1u);
  std::vector<std::string> got;
  auto sub = results.listen("CA1", [&](const std::string& v) { got.push_back(v); });
  BOOST_TEST(got == std::vector<std::string>{"machine_end_beep"});
  BOOST_TEST(results.kept() == 0u);
}

BOOST_AUTO_TEST_CASE(a_call_that_has_gone_gets_nothing) {
  amd_results results;
  int calls = 0;
  {
    auto sub = results.listen("CA1", [&](const std::string&) { ++calls; });
  }
  BOOST_TEST(!results.deliver("CA1", "human"));  // kept, for nobody: it ages out
  BOOST_TEST(calls == 0);
  amd_results::subscription moved;
  {
    auto sub = results.listen("CA2", [&](const std::string&) { ++calls; });
    moved = std::move(sub);
  }
  BOOST_TEST(results.deliver("CA2", "human"));  // the moved subscription still listens
  moved.reset();
  BOOST_TEST(!results.deliver("CA2", "human"));
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(kept_verdicts_are_bounded_in_age_and_number) {
  amd_results results;
  const auto t0 = amd_results::clock::now();
  results.deliver("CAold", "human", t0);
  results.deliver("CAnew", "human", t0 + amd_results::kept_for + 1s);  // the old one is forgotten
  BOOST_TEST(results.kept() == 1u);
  for (std::size_t i = 0; i < 3 * amd_results::max_kept; ++i)
    results.deliver("CA" + std::to_string(i), "human", t0 + amd_results::kept_for + 2s);
  BOOST_TEST(results.kept() <= amd_results::max_kept);
  int got = 0;
  auto sub = results.listen("CA" + std::to_string(3 * amd_results::max_kept - 1), [&](const std::string&) { ++got; });
  BOOST_TEST(got == 1);  // the newest are the ones kept
}

BOOST_AUTO_TEST_SUITE_END()
