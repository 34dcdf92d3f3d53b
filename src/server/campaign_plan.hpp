// A campaign's decisions, sans-I/O: whether the next number may be dialled now (max_concurrent, and the
// calls-per-second pace that keeps the account under Twilio's limit), when a row may be dialled (its window
// in the recipient's time zone), and what follows an attempt (a retry after a backoff, or done). The call
// store applies them under the campaign's row lock, so that several gateway instances sharing PostgreSQL
// pace one campaign together (records/campaigns.cpp); these functions only decide.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/campaign_request.hpp"

namespace voicebridge::server {

using millis_since_epoch = std::int64_t;

struct pace {
  unsigned max_concurrent = 1;
  double calls_per_second = 1;
};

// The time between two dials of a campaign at `calls_per_second`: 1/cps rounded up to the millisecond (3 a
// second are 334 ms apart, never 333), plus a margin (5 %, and 25 ms) for the time between the decision and
// Twilio's receipt of the request, which varies from call to call: Twilio counts over a sliding second.
millis_since_epoch pace_interval(double calls_per_second);
inline constexpr millis_since_epoch pace_margin_ms = 25;

struct dial_permission {
  bool now = false;
  millis_since_epoch retry_at = 0;     // when not now: the earliest the answer may change
  millis_since_epoch next_slot_at = 0;  // when now: the campaign's next dial may not come before this
};

// `in_flight`: the campaign's calls dialled and not yet ended; `next_slot_at`: as the last dial left it.
// A full campaign waits for a call to end (retry_at 0: no time helps); a paced one for its next slot.
dial_permission may_dial(const pace& p, std::size_t in_flight, millis_since_epoch next_slot_at, millis_since_epoch now);

// When a row may be dialled: `now` inside its window (the row's time zone, else the window's), else the
// window's next opening; nullopt for a window that never opens.
std::optional<millis_since_epoch> dial_time(const opening_hours& window, const std::string& zone,
                                            millis_since_epoch now);

// What follows an attempt that ended with `outcome` (the call record's: busy, no_answer, failed, or another
// for a call that connected), `attempts` made so far (this one included).
struct after_attempt {
  bool retry = false;
  millis_since_epoch retry_at = 0;
};
after_attempt next_after(const campaign_retry& retry, unsigned attempts, std::string_view outcome, millis_since_epoch now);

}  // namespace voicebridge::server
