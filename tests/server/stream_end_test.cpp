// What Twilio's <Connect action> request is answered with on any instance, decided without sockets.
#include <boost/test/unit_test.hpp>

#include "server/stream_end.hpp"

using namespace voicebridge;
using namespace voicebridge::server;
using kind = stream_end_decision::kind;
namespace state = records::stream_state;

namespace {
std::optional<records::call_stream> row(std::string_view s, unsigned reconnects = 0) {
  records::call_stream r;
  r.call_sid = "CA" + std::string(32, 'a');
  r.instance = "vb1";
  r.route = "sales";
  r.state = std::string(s);
  r.reconnects = reconnects;
  return r;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(stream_end)

BOOST_AUTO_TEST_CASE(a_stream_its_gateway_ended_or_the_caller_hung_up_hangs_up) {
  BOOST_TEST((decide_stream_end(row(state::served), 3).what == kind::hang_up));
  BOOST_TEST((decide_stream_end(row(state::ended_by_twilio), 3).what == kind::hang_up));
}

BOOST_AUTO_TEST_CASE(a_stream_never_served_or_refused_gets_the_apology) {
  const auto never = decide_stream_end(std::nullopt, 3);
  BOOST_TEST((never.what == kind::apologise));
  BOOST_TEST(never.reason == "never_served");
  const auto refused = decide_stream_end(row(state::unserved), 3);
  BOOST_TEST((refused.what == kind::apologise));
  BOOST_TEST(refused.reason == "refused");
  BOOST_TEST((decide_stream_end(row("something_new"), 3).what == kind::apologise));
}

BOOST_AUTO_TEST_CASE(a_stream_its_gateway_did_not_close_gets_a_fresh_one_claimed_from_the_state_it_was_in) {
  // The instance died (or its link to Twilio broke): the row still says streaming.
  const auto lost = decide_stream_end(row(state::streaming), 3);
  BOOST_TEST((lost.what == kind::reconnect));
  BOOST_TEST(lost.reason == "lost");
  BOOST_TEST(lost.claim_from == state::streaming);
  // Its gateway, still alive, saw it drop (no close frame either way) and marked it lost.
  const auto dropped = decide_stream_end(row(state::lost), 3);
  BOOST_TEST((dropped.what == kind::reconnect));
  BOOST_TEST(dropped.claim_from == state::lost);
  // A draining instance closed it with 1001 after storing handed_off.
  const auto handed = decide_stream_end(row(state::handed_off, 1), 3);
  BOOST_TEST((handed.what == kind::reconnect));
  BOOST_TEST(handed.claim_from == state::handed_off);
  // A fresh stream that never started: its <Connect> ended again, and another fresh stream is counted.
  const auto again = decide_stream_end(row(state::reconnecting, 1), 3);
  BOOST_TEST((again.what == kind::reconnect));
  BOOST_TEST(again.claim_from == state::reconnecting);
}

BOOST_AUTO_TEST_CASE(fresh_streams_stop_at_max_reconnects_with_the_apology) {
  for (auto s : {state::streaming, state::lost, state::handed_off, state::reconnecting}) {
    BOOST_TEST((decide_stream_end(row(s, 2), 3).what == kind::reconnect));
    const auto past = decide_stream_end(row(s, 3), 3);
    BOOST_TEST((past.what == kind::apologise));
    BOOST_TEST(past.reason == "too_many_reconnects");
  }
  BOOST_TEST((decide_stream_end(row(state::streaming), 0).what == kind::apologise));  // MAX_RECONNECTS=0: off
}

BOOST_AUTO_TEST_CASE(a_fresh_stream_carries_the_route_its_first_stream_was_granted_and_the_count) {
  auto after_hours = *row(state::streaming, 1);
  after_hours.parameters = {{"from", "+15551230001"}, {"route", "sales/voicemail"}, {"to", "+15559870002"}};
  const auto fresh = fresh_stream_for(after_hours);
  BOOST_TEST(fresh.grant == "sales/voicemail");  // the voicemail variant, not the route's name alone
  const std::vector<std::pair<std::string, std::string>> expected{
      {"from", "+15551230001"}, {"to", "+15559870002"}, {"reconnects", "1"}};  // the route is the grant, once
  BOOST_TEST((fresh.parameters == expected));
  // A row stored without the route parameter: the route's name.
  BOOST_TEST(fresh_stream_for(*row(state::lost)).grant == "sales");
}

BOOST_AUTO_TEST_SUITE_END()
