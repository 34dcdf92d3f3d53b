// The call's decisions without a socket: how `start` authenticates, what arrives too early, where DTMF and
// marks go, the agent's retries and fallback, the watchdog, and the outcome of every way a call ends.
#include <boost/test/unit_test.hpp>

#include "call/call_state.hpp"
#include "records/call_record.hpp"
#include "records/call_streams.hpp"
#include "twilio_start.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"

using namespace voicebridge;
using namespace voicebridge::call;
using namespace std::chrono_literals;
using kind = call_step::kind;

namespace {

constexpr std::string_view key = "stream-token-key";
const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

call_state_settings settings(upgrade_auth auth = upgrade_auth::none) {
  call_state_settings s;
  s.stream_token_key = key;
  s.auth = auth;
  s.max_calls = 2;
  s.write_timeout = 4s;
  s.idle_timeout = 10s;
  return s;
}

twilio::start_message start_with_token(std::string token = {}) {
  if (token.empty()) token = twilio::mint_stream_token(key, testing::test_call_sid, "", now + 60s);
  return testing::mulaw_start(std::move(token));
}

// Its route is configured, its webhook admitted it, and its operator key is 0 (or none).
room admitted_room(std::optional<char> operator_key = '0') {
  room r;
  r.admitted_by_webhook = true;
  r.operator_key = operator_key;
  return r;
}

room unadmitted_room(std::size_t active_calls, std::size_t route_active_calls = 0,
                     std::optional<std::size_t> route_max_calls = std::nullopt) {
  room r;
  r.active_calls = active_calls;
  r.route_active_calls = route_active_calls;
  r.route_max_calls = route_max_calls;
  return r;
}

// A call admitted and serving.
call_state serving_call(room found = admitted_room(), call_state_settings s = settings()) {
  call_state state(s);
  BOOST_REQUIRE(state.on_start(start_with_token(), now).what == kind::check_room);
  BOOST_REQUIRE(state.on_room(found).what == kind::start_agent);
  return state;
}

void check_refused(const call_step& step, refusal why, std::uint16_t code) {
  BOOST_TEST((step.what == kind::close));
  BOOST_REQUIRE(step.refused.has_value());
  BOOST_TEST(label(*step.refused) == label(why));
  BOOST_REQUIRE(step.close.has_value());
  BOOST_TEST(step.close->code == code);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(call_state_decisions)

BOOST_AUTO_TEST_CASE(a_valid_token_or_a_signed_upgrade_authenticates_and_nothing_else_does) {
  call_state token(settings());
  BOOST_TEST((token.on_start(start_with_token(), now).what == kind::check_room));
  BOOST_TEST(token.authenticated());

  auto unsigned_start = start_with_token();
  unsigned_start.custom_parameters.clear();
  call_state signed_upgrade(settings(upgrade_auth::twilio_signature));
  BOOST_TEST((signed_upgrade.on_start(unsigned_start, now).what == kind::check_room));

  call_state nothing(settings());
  check_refused(nothing.on_start(unsigned_start, now), refusal::no_credentials, close_code::policy_error);
  BOOST_TEST(!nothing.authenticated());

  call_state expired(settings());
  const auto step = expired.on_start(start_with_token(), now + 61s);
  check_refused(step, refusal::bad_stream_token, close_code::policy_error);
  BOOST_TEST(step.close->reason == "stream token expired");

  // A token minted for another call is refused even over a signed upgrade: a credential presented is checked.
  auto other = start_with_token(twilio::mint_stream_token(key, "CAffffffffffffffffffffffffffffffff", "", now + 60s));
  call_state stolen(settings(upgrade_auth::twilio_signature));
  check_refused(stolen.on_start(other, now), refusal::bad_stream_token, close_code::policy_error);
  BOOST_TEST(stolen.outcome("") == records::outcome::rejected);
}

BOOST_AUTO_TEST_CASE(an_unsupported_format_is_refused_after_authentication_and_recorded_as_rejected) {
  auto start = start_with_token();
  start.sample_rate = 16000;
  call_state state(settings());
  check_refused(state.on_start(start, now), refusal::unsupported_format, close_code::unknown_data);
  BOOST_TEST(state.authenticated());
  BOOST_TEST(state.outcome("") == records::outcome::rejected);
}

BOOST_AUTO_TEST_CASE(a_stream_no_webhook_admitted_needs_room_under_max_calls) {
  call_state full(settings());
  full.on_start(start_with_token(), now);
  const auto step = full.on_room(unadmitted_room(2));
  check_refused(step, refusal::over_capacity, close_code::try_again_later);
  BOOST_TEST((limit_of(refusal::over_capacity) == std::optional<std::string_view>("max_calls")));
  BOOST_TEST(!full.started());

  call_state admitted(settings());
  admitted.on_start(start_with_token(), now);
  auto kept = admitted_room();
  kept.active_calls = 2;
  BOOST_TEST((admitted.on_room(kept).what == kind::start_agent));  // its webhook kept its slot
  BOOST_TEST(admitted.started());
  BOOST_TEST((admitted.phase() == call_phase::serving));
}

BOOST_AUTO_TEST_CASE(a_stream_no_webhook_admitted_needs_room_under_its_routes_max_calls) {
  call_state full(settings());
  full.on_start(start_with_token(), now);
  check_refused(full.on_room(unadmitted_room(1, 3, 3)), refusal::route_over_capacity, close_code::try_again_later);
  BOOST_TEST((limit_of(refusal::route_over_capacity) == std::optional<std::string_view>("route_max_calls")));
  call_state room_left(settings());
  room_left.on_start(start_with_token(), now);
  BOOST_TEST((room_left.on_room(unadmitted_room(1, 2, 3)).what == kind::start_agent));
}

BOOST_AUTO_TEST_CASE(the_route_is_the_one_the_token_was_minted_for) {
  auto start = start_with_token(twilio::mint_stream_token(key, testing::test_call_sid, "sales", now + 60s));
  call_state unnamed(settings());  // the token names a route the start does not carry
  check_refused(unnamed.on_start(start, now), refusal::bad_stream_token, close_code::policy_error);
  start.custom_parameters.emplace_back("route", "support");
  call_state changed(settings());
  check_refused(changed.on_start(start, now), refusal::bad_stream_token, close_code::policy_error);
  start.custom_parameters.back().second = "sales";
  call_state same(settings());
  BOOST_TEST((same.on_start(start, now).what == kind::check_room));
  BOOST_TEST(same.route() == "sales");
  // A route a reload removed since the webhook: refused, and Twilio's <Connect action> apologises.
  room gone = admitted_room();
  gone.route_known = false;
  check_refused(same.on_room(gone), refusal::unknown_route, close_code::policy_error);
}

BOOST_AUTO_TEST_CASE(a_duplicate_start_changes_nothing) {
  auto state = serving_call();
  BOOST_TEST((state.on_start(start_with_token("v1.garbage"), now).what == kind::nothing));
  BOOST_TEST(!state.closing());
}

BOOST_AUTO_TEST_CASE(media_and_dtmf_before_start_break_the_protocol_and_marks_are_ignored) {
  call_state media(settings());
  check_refused(media.on_media(), refusal::before_start, close_code::policy_error);
  BOOST_TEST(media.end_reason() == "media before start");
  call_state dtmf(settings());
  check_refused(dtmf.on_dtmf('5'), refusal::before_start, close_code::policy_error);
  call_state mark(settings());
  BOOST_TEST((mark.on_mark().what == kind::nothing));
  BOOST_TEST(!mark.closing());
  // Unauthenticated, a protocol violation is a rejected stream; it writes no record.
  BOOST_TEST(media.outcome("") == records::outcome::rejected);
  BOOST_TEST(is_protocol_violation(refusal::before_start));
  BOOST_TEST(!is_protocol_violation(refusal::over_capacity));
}

BOOST_AUTO_TEST_CASE(once_started_media_marks_and_digits_go_to_the_agent_and_the_operator_key_to_a_human) {
  auto state = serving_call();
  BOOST_TEST((state.on_media().what == kind::to_agent));
  BOOST_TEST((state.on_mark().what == kind::to_agent));
  BOOST_TEST((state.on_dtmf('5').what == kind::to_agent));
  BOOST_TEST((state.on_dtmf('0').what == kind::transfer_to_operator));
  auto without = serving_call(admitted_room(std::nullopt));
  BOOST_TEST((without.on_dtmf('0').what == kind::to_agent));
}

BOOST_AUTO_TEST_CASE(a_protocol_violation_after_start_is_recorded_as_protocol_error_and_closes_once) {
  auto state = serving_call();
  check_refused(state.on_invalid_message(), refusal::invalid_message, close_code::bad_payload);
  BOOST_TEST(state.closing());
  BOOST_TEST((state.on_binary_frame().what == kind::nothing));  // already closing: one close frame
  BOOST_TEST(!state.close(close_code::normal, "call ended").has_value());
  BOOST_TEST(state.outcome(records::outcome::agent) == records::outcome::protocol_error);
  call_state big(settings());
  check_refused(big.on_oversized_message(), refusal::message_too_big, close_code::too_big);
  call_state framing(settings());
  check_refused(framing.on_bad_frame(close_code::protocol_error), refusal::bad_frame, close_code::protocol_error);
  BOOST_TEST(is_protocol_violation(refusal::bad_frame));
  call_state text(settings());
  check_refused(text.on_bad_frame(close_code::bad_payload), refusal::invalid_message, close_code::bad_payload);
  BOOST_TEST((limit_of(refusal::message_too_big) == std::optional<std::string_view>("ws_message_size")));
}

BOOST_AUTO_TEST_CASE(stop_before_start_closes_and_after_start_tells_the_agent) {
  call_state early(settings());
  const auto step = early.on_stop();
  BOOST_TEST((step.what == kind::close));
  BOOST_REQUIRE(step.close.has_value());
  BOOST_TEST(step.close->code == close_code::normal);
  BOOST_TEST(step.close->reason == "stop before start");
  BOOST_TEST(early.outcome("") == "abandoned");

  auto state = serving_call();
  state.on_read_end(call_state::read_end::error);  // a reason noted first is replaced: Twilio said stop
  BOOST_TEST((state.on_stop().what == kind::to_agent));
  BOOST_TEST(state.caller_gone());
  BOOST_TEST(state.end_reason() == "twilio stop");
}

BOOST_AUTO_TEST_CASE(no_authenticated_start_in_time_is_refused_and_a_started_call_is_not) {
  call_state late(settings());
  check_refused(late.on_start_deadline(), refusal::no_start_in_time, close_code::policy_error);
  BOOST_TEST((limit_of(refusal::no_start_in_time) == std::optional<std::string_view>("stream_auth_timeout")));
  auto state = serving_call();
  BOOST_TEST((state.on_start_deadline().what == kind::nothing));
}

BOOST_AUTO_TEST_CASE(a_fast_unreachable_agent_is_retried_at_once_then_the_fallback_plays) {
  auto state = serving_call();
  auto step = state.on_agent_end(agent_end::unreachable, 40ms);
  BOOST_TEST((step.what == agent_step::kind::retry));
  BOOST_TEST(step.wait.count() == 0);
  BOOST_TEST((state.on_backoff_done(agent_end::unreachable).what == agent_step::kind::run));
  step = state.on_agent_end(agent_end::unreachable, 90ms);
  BOOST_TEST((step.what == agent_step::kind::fallback));
  BOOST_TEST(step.fallback_reason == "unreachable");
  step = state.on_fallback_end(agent_end::served);
  BOOST_TEST((step.what == agent_step::kind::finish));
  BOOST_REQUIRE(step.close.has_value());
  BOOST_TEST(step.close->reason == "call ended");
  BOOST_TEST(state.agent_served());
  BOOST_TEST(state.outcome(records::outcome::voicemail) == records::outcome::voicemail);
}

BOOST_AUTO_TEST_CASE(a_busy_agent_is_retried_after_backoffs_within_the_budget_then_falls_back) {
  auto s = settings();
  s.retry_seed = 42;
  auto state = serving_call(admitted_room(), s);
  std::chrono::milliseconds elapsed{5};
  int retries = 0;
  for (;;) {
    auto step = state.on_agent_end(agent_end::rate_limited, elapsed);
    if (step.what != agent_step::kind::retry) {
      BOOST_TEST((step.what == agent_step::kind::fallback));
      BOOST_TEST(step.fallback_reason == "rate_limited");
      break;
    }
    BOOST_TEST(step.wait.count() > 0);
    elapsed += step.wait + 5ms;
    BOOST_TEST(elapsed.count() <= 1500 + 5);
    ++retries;
    BOOST_REQUIRE(retries < 10);
  }
  BOOST_TEST(retries >= 2);
}

BOOST_AUTO_TEST_CASE(failures_that_retrying_cannot_mend_go_to_the_fallback_with_their_reason) {
  for (auto [end, reason] : {std::pair{agent_end::refused, "refused"}, std::pair{agent_end::failed_mid_call, "failed_mid_call"}}) {
    auto state = serving_call();
    const auto step = state.on_agent_end(end, 20ms);
    BOOST_TEST((step.what == agent_step::kind::fallback));
    BOOST_TEST(step.fallback_reason == reason);
  }
}

BOOST_AUTO_TEST_CASE(a_caller_gone_ends_the_agent_loop_without_retry_or_fallback) {
  auto state = serving_call();
  BOOST_TEST((state.on_agent_end(agent_end::rate_limited, 10ms).what == agent_step::kind::retry));
  state.on_stop();  // during the backoff
  auto step = state.on_backoff_done(agent_end::rate_limited);
  BOOST_TEST((step.what == agent_step::kind::finish));
  BOOST_REQUIRE(step.close.has_value());
  BOOST_TEST(step.close->reason == "agent unavailable");
  BOOST_TEST(!state.agent_served());

  auto gone = serving_call();
  gone.on_read_end(call_state::read_end::closed_by_twilio);
  step = gone.on_agent_end(agent_end::unreachable, 10ms);
  BOOST_TEST((step.what == agent_step::kind::finish));
  BOOST_TEST(gone.end_reason() == "twilio closed");
}

BOOST_AUTO_TEST_CASE(a_served_call_finishes_with_a_normal_close) {
  auto state = serving_call();
  const auto step = state.on_agent_end(agent_end::served, 60'000ms);
  BOOST_TEST((step.what == agent_step::kind::finish));
  BOOST_REQUIRE(step.close.has_value());
  BOOST_TEST(step.close->code == close_code::normal);
  BOOST_TEST(state.outcome(records::outcome::agent) == records::outcome::agent);
}

BOOST_AUTO_TEST_CASE(the_end_the_other_instances_are_told_is_served_handed_off_by_the_drain_or_refused) {
  namespace stream = records::stream_state;
  auto served = serving_call();
  served.on_agent_end(agent_end::served, 60'000ms);
  BOOST_TEST(served.closing_state() == stream::served);
  auto hung_up = serving_call();
  BOOST_REQUIRE(hung_up.close(close_code::normal, "call ended").has_value());
  BOOST_TEST(hung_up.closing_state() == stream::served);
  // The drain's deadline: the call moves to a live instance on a fresh stream, the close that follows
  // (the second one asked for) changes nothing.
  auto drained = serving_call();
  BOOST_REQUIRE(drained.close(close_code::going_away, "gateway shutting down").has_value());
  BOOST_TEST(!drained.close(close_code::normal, "call ended").has_value());
  BOOST_TEST(drained.closing_state() == stream::handed_off);
  call_state full(settings());
  full.on_start(start_with_token(), now);
  full.on_room(unadmitted_room(2));
  BOOST_TEST(full.closing_state() == stream::unserved);
}

BOOST_AUTO_TEST_CASE(the_first_end_reason_stays_and_a_close_reason_fits_a_close_frame) {
  auto state = serving_call();
  const auto close = state.close(close_code::going_away, std::string(300, 'x'));
  BOOST_REQUIRE(close.has_value());
  BOOST_TEST(close->reason.size() == 120u);
  BOOST_TEST(state.end_reason().size() == 300u);  // the record keeps more (cut at 200 when stored)
  state.on_write_failed();
  BOOST_TEST(state.end_reason().size() == 300u);
}

BOOST_AUTO_TEST_CASE(a_transfer_is_the_outcome_from_its_start_unless_twilio_refuses_it) {
  auto state = serving_call();
  BOOST_TEST(state.can_transfer());
  state.begin_transfer();
  BOOST_TEST(!state.can_transfer());  // one at a time
  BOOST_TEST(state.outcome(records::outcome::agent) == records::outcome::transferred);
  state.transfer_done(false);
  BOOST_TEST(state.outcome(records::outcome::agent) == records::outcome::agent);
  state.begin_transfer();
  state.transfer_done(true);
  BOOST_TEST(state.outcome(records::outcome::agent_failed) == records::outcome::transferred);
  state.close(close_code::normal, "call ended");
  BOOST_TEST(!state.can_transfer());
}

BOOST_AUTO_TEST_CASE(the_watchdog_drops_a_stuck_write_then_an_idle_caller_and_pings_in_between) {
  using clock = std::chrono::steady_clock;
  const clock::time_point t0{};
  auto state = serving_call();
  BOOST_TEST((state.watch_interval() == std::chrono::steady_clock::duration(2s)));  // half the smaller timeout
  BOOST_TEST((state.watch(t0 + 500ms, t0, std::nullopt) == watch_step::nothing));
  BOOST_TEST((state.watch(t0 + 1s, t0, std::nullopt) == watch_step::ping));  // quiet for half a look
  BOOST_TEST((state.watch(t0 + 2s, t0, std::nullopt) == watch_step::nothing));  // one ping in flight
  state.on_pong_or_ping_done();
  BOOST_TEST((state.watch(t0 + 3s, t0 + 3s, t0 + 1s) == watch_step::nothing));  // a write pending 2 s
  BOOST_TEST((state.watch(t0 + 5s, t0 + 5s, t0 + 1s) == watch_step::drop_for_write_timeout));
  BOOST_TEST(state.closing());
  state.on_write_failed();
  BOOST_TEST(state.end_reason() == "write timeout");

  auto idle = serving_call();
  BOOST_TEST((idle.watch(t0 + 10s, t0, std::nullopt) == watch_step::drop_for_idle));
  BOOST_TEST((idle.watch(t0 + 12s, t0, std::nullopt) == watch_step::nothing));  // closing: the handshake's timeout
  BOOST_TEST(idle.on_read_end(call_state::read_end::error) == "idle timeout");
  BOOST_TEST(idle.end_reason() == "idle timeout");

  auto dropped = serving_call();
  BOOST_TEST(dropped.on_read_end(call_state::read_end::error) == "connection error");
  BOOST_TEST(dropped.caller_gone());
}

BOOST_AUTO_TEST_SUITE_END()
