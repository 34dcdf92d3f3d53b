// The post-call webhook queue of the call store: one delivery per call (its id is the call's, so that two
// instances, a replayed spool or a retried status callback never queue a record twice), due once the
// call's record is complete, owned by one instance at a time while it is being sent (a lease, taken with
// FOR UPDATE SKIP LOCKED on PostgreSQL), retried until its window ends, then parked as failed. The body is
// built from the record when it is sent, so the receiver always gets the record as it is then.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace voicebridge::records {

namespace delivery_state {
inline constexpr const char* pending = "pending";      // due at due_at_ms
inline constexpr const char* delivered = "delivered";  // the receiver answered 2xx
inline constexpr const char* failed = "failed";        // parked: refused for good, or its window ran out
}  // namespace delivery_state

struct webhook_delivery {
  std::string id;        // "WH" + the call SID's 32 hex digits: also the receiver's Idempotency-Key
  std::string kind = "postcall";
  std::string call_sid;
  std::string state = delivery_state::pending;
  unsigned attempts = 0;
  std::int64_t due_at_ms = 0;
  std::int64_t window_from_ms = 0;  // retries stop POSTCALL_RETRY_HOURS after this (a manual retry resets it)
  std::int64_t created_at_ms = 0;
  std::int64_t finished_at_ms = 0;  // delivered or parked
  std::string last_error;           // the last attempt's failure: a status or a connection error, never a body
};

// Twilio's final CallStatus values (Twilio REST API, "Call resource", "Call Status values"): a call with one
// of them has ended, and its record is complete. The same list for the SQL that asks it of stored calls.
inline bool is_final_call_status(std::string_view status) {
  return status == "completed" || status == "busy" || status == "no-answer" || status == "failed" || status == "canceled";
}
inline constexpr const char* final_call_statuses_sql = "('completed', 'busy', 'no-answer', 'failed', 'canceled')";

// The delivery id of a call's record.
std::string delivery_id_for(const std::string& call_sid);

// What one attempt came to, as webhook_sender reports it to the store.
struct delivery_result {
  enum class kind { delivered, retry, park } what = kind::retry;
  std::int64_t at_ms = 0;  // now (delivered, park), or when to try again (retry)
  std::string error;       // empty when delivered
};

struct delivery_queue_stats {
  std::int64_t pending = 0;
  std::optional<std::int64_t> oldest_created_at_ms;  // of the pending ones
  std::int64_t failed = 0;
};

}  // namespace voicebridge::records
