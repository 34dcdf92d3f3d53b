// A campaign's pacing, windows and retries without sockets or a database.
#include <boost/test/unit_test.hpp>

#include "server/campaign_plan.hpp"

using namespace voicebridge::server;

namespace {
// 2026-12-02 (a Wednesday) 15:30 UTC, in milliseconds.
constexpr millis_since_epoch wednesday_1530_utc = 1'796'225'400'000;
constexpr millis_since_epoch minute = 60'000, hour = 60 * minute;
}  // namespace

BOOST_AUTO_TEST_SUITE(campaign_plans)

BOOST_AUTO_TEST_CASE(dials_are_spaced_by_the_pace_and_bounded_by_max_concurrent) {
  const pace p{5, 2};
  const auto first = may_dial(p, 0, 0, 1000);
  BOOST_TEST(first.now);
  BOOST_TEST(first.next_slot_at == 1000 + 500 + 25 + pace_margin_ms);  // 2 a second: 500 ms apart, and the margins
  const auto early = may_dial(p, 1, first.next_slot_at, 1200);
  BOOST_TEST(!early.now);
  BOOST_TEST(early.retry_at == first.next_slot_at);
  BOOST_TEST(may_dial(p, 1, first.next_slot_at, first.next_slot_at).now);
  const auto full = may_dial(p, 5, 0, 9000);
  BOOST_TEST(!full.now);
  BOOST_TEST(full.retry_at == 0);  // only a call ending helps
  BOOST_TEST(may_dial(pace{1, 3}, 0, 0, 0).next_slot_at == 334 + 16 + pace_margin_ms);  // never faster than asked
  BOOST_TEST(may_dial(pace{1, 0.5}, 0, 0, 0).next_slot_at == 2000 + 100 + pace_margin_ms);
  BOOST_TEST(pace_interval(50) == 20 + 1 + pace_margin_ms);
}

BOOST_AUTO_TEST_CASE(a_row_waits_for_its_window_in_its_own_time_zone) {
  const auto hours = *opening_hours::parse("Mon-Fri 09:00-17:00");
  // 15:30 UTC is 10:30 in New York (open) and 16:30 in Berlin (open), 00:30 Thursday in Tokyo (closed).
  BOOST_TEST((dial_time(hours, "America/New_York", wednesday_1530_utc) == wednesday_1530_utc));
  BOOST_TEST((dial_time(hours, "Europe/Berlin", wednesday_1530_utc) == wednesday_1530_utc));
  // Tokyo opens at 09:00 Thursday local, 00:00 UTC Thursday: 8 h 30 min later.
  BOOST_TEST((dial_time(hours, "Asia/Tokyo", wednesday_1530_utc) == wednesday_1530_utc + 8 * hour + 30 * minute));
  BOOST_TEST((dial_time(opening_hours::always(), "", 42) == 42));
}

BOOST_AUTO_TEST_CASE(unanswered_calls_are_retried_with_a_doubling_backoff_up_to_their_count) {
  campaign_retry retry;
  retry.busy = 2;
  retry.no_answer = 1;
  retry.backoff = std::chrono::seconds(60);
  const auto first = next_after(retry, 1, "busy", 0);
  BOOST_TEST(first.retry);
  BOOST_TEST(first.retry_at == 60'000);
  const auto second = next_after(retry, 2, "busy", 0);
  BOOST_TEST(second.retry);
  BOOST_TEST(second.retry_at == 120'000);
  BOOST_TEST(!next_after(retry, 3, "busy", 0).retry);  // two retries: three attempts in all
  BOOST_TEST(next_after(retry, 1, "no_answer", 0).retry);
  BOOST_TEST(!next_after(retry, 2, "no_answer", 0).retry);
  BOOST_TEST(!next_after(retry, 1, "failed", 0).retry);  // no retries asked for
  for (auto connected : {"agent", "voicemail_left", "machine_hung_up", "transferred", "completed"})
    BOOST_TEST(!next_after(retry, 1, connected, 0).retry, connected);  // it reached someone (or something)
}

BOOST_AUTO_TEST_SUITE_END()
