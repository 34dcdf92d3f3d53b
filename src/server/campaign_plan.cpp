#include "server/campaign_plan.hpp"

#include <algorithm>
#include <cmath>

#include "records/call_record.hpp"

namespace voicebridge::server {

dial_permission may_dial(const pace& p, std::size_t in_flight, millis_since_epoch next_slot_at, millis_since_epoch now) {
  if (in_flight >= p.max_concurrent) return {false, 0, next_slot_at};
  if (now < next_slot_at) return {false, next_slot_at, next_slot_at};
  return {true, 0, now + pace_interval(p.calls_per_second)};
}

millis_since_epoch pace_interval(double calls_per_second) {
  const auto base = static_cast<millis_since_epoch>(std::ceil(1000.0 / calls_per_second));
  return base + base / 20 + pace_margin_ms;
}

std::optional<millis_since_epoch> dial_time(const opening_hours& window, const std::string& zone, millis_since_epoch now) {
  if (window.is_always()) return now;
  const std::chrono::system_clock::time_point at{std::chrono::milliseconds(now)};
  auto opening = next_opening(window, zone, at);
  if (!opening || !*opening) return std::nullopt;  // a zone checked when the campaign was taken; or never open
  return std::max(now, static_cast<millis_since_epoch>(
                           std::chrono::duration_cast<std::chrono::milliseconds>((**opening).time_since_epoch()).count()));
}

after_attempt next_after(const campaign_retry& retry, unsigned attempts, std::string_view outcome, millis_since_epoch now) {
  namespace o = records::outcome;
  const unsigned allowed = outcome == o::busy ? retry.busy : outcome == o::no_answer ? retry.no_answer
                           : outcome == o::failed ? retry.failed : 0;
  if (attempts == 0 || attempts > allowed) return {};  // `allowed` retries after the first attempt
  // backoff, 2 x backoff, 4 x backoff, ... (capped at a week: a retry later than that is no retry).
  const auto factor = std::min<std::int64_t>(std::int64_t{1} << std::min(attempts - 1, 20u), 1 << 20);
  const auto wait = std::min<std::int64_t>(retry.backoff.count() * 1000 * factor, 7LL * 24 * 3600 * 1000);
  return {true, now + wait};
}

}  // namespace voicebridge::server
