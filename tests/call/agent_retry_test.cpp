// The agent retry policy, without sockets: which failures are tried again, how long a 429 waits, and that the
// waits end within the budget that keeps the fallback prompt inside the caller's 2 s.
#include <boost/test/unit_test.hpp>
#include <set>

#include "call/agent_retry.hpp"

using namespace voicebridge::call;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(agent_retry)

BOOST_AUTO_TEST_CASE(a_fast_unreachable_agent_is_tried_once_more_at_once_and_a_slow_one_not_at_all) {
  agent_retry_policy fast({}, 1);
  BOOST_TEST((fast.after(agent_end::unreachable, 30ms) == std::optional(0ms)));
  BOOST_TEST(!fast.after(agent_end::unreachable, 60ms).has_value());  // the second failure is final
  agent_retry_policy slow({}, 1);
  BOOST_TEST(!slow.after(agent_end::unreachable, 5000ms).has_value());  // a connect timeout: never twice
}

BOOST_AUTO_TEST_CASE(served_refused_and_mid_call_failures_are_never_retried) {
  for (auto end : {agent_end::served, agent_end::refused, agent_end::failed_mid_call}) {
    agent_retry_policy policy({}, 7);
    BOOST_TEST(!policy.after(end, 10ms).has_value());
  }
}

// Each wait lies in [backoff/2, backoff] for a backoff that doubles from 200 ms; the waits stop before the 1.5 s
// budget is passed, counting the attempts' own time.
BOOST_AUTO_TEST_CASE(rate_limited_attempts_back_off_exponentially_with_jitter_within_the_budget) {
  std::set<long> first_waits;
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    agent_retry_policy policy({}, seed);
    std::chrono::milliseconds elapsed{5};  // a 429 comes back in milliseconds
    std::chrono::milliseconds backoff{200};
    int retries = 0;
    while (auto wait = policy.after(agent_end::rate_limited, elapsed)) {
      BOOST_TEST((*wait >= backoff / 2));
      BOOST_TEST((*wait <= backoff));
      if (retries == 0) first_waits.insert(wait->count());
      elapsed += *wait + 5ms;
      backoff *= 2;
      ++retries;
      BOOST_TEST_REQUIRE(retries < 10);
    }
    BOOST_TEST(retries >= 2);                        // 100-200 and 200-400 ms always fit in 1.5 s
    BOOST_TEST((elapsed <= 1500ms + 5ms));            // the last wait ended inside the budget
  }
  BOOST_TEST(first_waits.size() > 20u);  // jittered: calls refused together do not come back together
}

BOOST_AUTO_TEST_CASE(a_rate_limited_agent_late_in_the_budget_falls_back_at_once) {
  agent_retry_policy policy({}, 3);
  BOOST_TEST(!policy.after(agent_end::rate_limited, 1450ms).has_value());  // even 100 ms would pass 1.5 s
  agent_retry_settings tight;
  tight.backoff_budget = 150ms;
  agent_retry_policy small(tight, 3);
  BOOST_TEST(!small.after(agent_end::rate_limited, 60ms).has_value());  // at least 100 ms: past 150 ms
}

BOOST_AUTO_TEST_SUITE_END()
