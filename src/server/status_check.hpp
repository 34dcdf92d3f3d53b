// A campaign row left `dialling` with no final status, decided sans-I/O. Twilio posts a call's final status
// callback once (Twilio REST API, "Call resource", StatusCallback): when the instance that placed the call
// died first, nobody hears it, and the row would hold a max_concurrent slot for ever. So every attempt
// carries a time to look it up at Twilio ("Fetch a Call resource") if nothing settled it; these functions say
// when, and what Twilio's answer means. The campaign runner (server/campaign_reconciler.cpp) carries them out.
#pragma once
#include <chrono>
#include <cstdint>

#include "records/webhook_deliveries.hpp"  // records::is_final_call_status
#include "twilio/call_creation.hpp"

namespace voicebridge::server {

// While one instance looks a row up, the others leave it alone for this long (its check time moves on).
inline constexpr std::chrono::milliseconds status_check_lease{60'000};

struct status_check {
  enum class step {
    settle,      // Twilio's status is final: settle the row with it, as its status callback would have
    unknown,     // Twilio has no such call (or no call was ever attached): the row ends "unknown"
    look_again,  // still going, or no answer from Twilio: look again at `at_ms`
  };
  step what = step::look_again;
  std::int64_t at_ms = 0;
};

// Twilio's answer about a row claimed at `claimed_at_ms`. A call that goes on is looked at again after as
// long as it has lasted so far (30 s to 30 min): a long call costs a few lookups, not one a minute.
status_check after_fetch(const twilio::fetched_call& fetched, std::int64_t claimed_at_ms, std::int64_t now_ms);

}  // namespace voicebridge::server
