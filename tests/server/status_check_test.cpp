// What Twilio's answer about a campaign call whose final status never came decides, without sockets.
#include <boost/test/unit_test.hpp>

#include "server/status_check.hpp"

using namespace voicebridge;
using namespace voicebridge::server;
using step = status_check::step;

namespace {
constexpr std::int64_t claimed = 1'796'225'400'000, second = 1000, minute = 60 * second;

twilio::fetched_call answered(unsigned status, std::string call_status = "") {
  twilio::fetched_call f;
  f.status = status;
  f.call_status = std::move(call_status);
  return f;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(status_checks)

BOOST_AUTO_TEST_CASE(a_final_status_settles_the_row_and_one_still_going_is_looked_at_less_and_less_often) {
  for (const char* final_status : {"completed", "busy", "no-answer", "failed", "canceled"})
    BOOST_TEST((after_fetch(answered(200, final_status), claimed, claimed + minute).what == step::settle), final_status);
  for (const char* going : {"queued", "ringing", "in-progress"}) {
    const auto early = after_fetch(answered(200, going), claimed, claimed + 90 * second);
    BOOST_TEST((early.what == step::look_again));
    BOOST_TEST(early.at_ms == claimed + 90 * second + 90 * second);  // after as long as it lasted so far
  }
  BOOST_TEST(after_fetch(answered(200, "ringing"), claimed, claimed + 5 * second).at_ms == claimed + 35 * second);  // 30 s at least
  BOOST_TEST(after_fetch(answered(200, "in-progress"), claimed, claimed + 3 * 60 * minute).at_ms ==
             claimed + 3 * 60 * minute + 30 * minute);  // 30 min at most
}

BOOST_AUTO_TEST_CASE(twilio_not_knowing_the_call_makes_it_unknown_and_no_answer_asks_again) {
  BOOST_TEST((after_fetch(answered(404), claimed, claimed + minute).what == step::unknown));
  for (unsigned failure : {0u, 429u, 500u, 503u}) {
    const auto again = after_fetch(answered(failure), claimed, claimed + minute);
    BOOST_TEST((again.what == step::look_again));
    BOOST_TEST(again.at_ms == claimed + minute + status_check_lease.count());
  }
  // Wrong credentials need the operator: asked again ten times less often.
  BOOST_TEST(after_fetch(answered(401), claimed, claimed).at_ms == claimed + 10 * status_check_lease.count());
  BOOST_TEST((after_fetch(answered(200), claimed, claimed).what == step::look_again));  // a resource with no status
}

BOOST_AUTO_TEST_CASE(twilios_call_resource_is_read_for_its_status_and_duration) {
  const auto ended = twilio::read_call_fetch_answer(
      200, R"({"sid":"CA0123","status":"completed","duration":"17","direction":"outbound-api"})");
  BOOST_TEST(ended.ok());
  BOOST_TEST(ended.call_status == "completed");
  BOOST_TEST(ended.duration_s == "17");
  const auto going = twilio::read_call_fetch_answer(200, R"({"sid":"CA0123","status":"in-progress","duration":null})");
  BOOST_TEST(going.call_status == "in-progress");
  BOOST_TEST(going.duration_s.empty());
  BOOST_TEST(!twilio::read_call_fetch_answer(200, "not json").ok());
  BOOST_TEST(!twilio::read_call_fetch_answer(200, R"({"sid":"CA0123"})").ok());
  const auto missing = twilio::read_call_fetch_answer(404, R"({"code":20404,"message":"not found","status":404})");
  BOOST_TEST(!missing.ok());
  BOOST_TEST(missing.status == 404u);
}

BOOST_AUTO_TEST_SUITE_END()
