// Campaigns in the call store (SQLite or PostgreSQL): each campaign, each of its numbers (a row) with its
// attempts, and the opt-out list. What to dial next is decided by server/campaign_plan.hpp inside a
// campaign_transaction: the campaign's row is locked (FOR UPDATE on PostgreSQL; SQLite has one writer) so
// that instances sharing the database pace a campaign together and never claim one number twice, and due
// rows are taken with FOR UPDATE SKIP LOCKED.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace voicebridge::records {

class sql_connection;

namespace campaign_state {
inline constexpr const char* running = "running";
inline constexpr const char* paused = "paused";
inline constexpr const char* cancelled = "cancelled";
inline constexpr const char* done = "done";  // every row reached a final outcome
}  // namespace campaign_state

namespace row_state {
inline constexpr const char* queued = "queued";      // due at next_attempt_at_ms
inline constexpr const char* dialling = "dialling";  // claimed by an instance: being placed, ringing or in a call
inline constexpr const char* done = "done";          // `outcome` is final
}  // namespace row_state

struct stored_campaign {
  std::string id, name, route, from;
  std::string settings_json;  // server/campaign_request.cpp's own format (settings_json)
  std::string state = campaign_state::running;
  std::int64_t next_slot_at_ms = 0;  // pacing: no dial of this campaign before
  std::int64_t created_at_ms = 0;
};

struct stored_campaign_row {
  std::string campaign_id;
  std::int64_t row_no = 0;  // the request's line
  std::string to, timezone;
  std::vector<std::pair<std::string, std::string>> variables;
  std::string state = row_state::queued;
  unsigned attempts = 0;
  std::int64_t next_attempt_at_ms = 0;
  std::string call_sid;  // the latest attempt's, once Twilio accepted it
  std::string outcome;   // done: busy, no_answer, failed, opted_out, cancelled, or the call's (agent, ...)
  std::int64_t claimed_at_ms = 0;  // when its latest attempt was claimed
};

// What a pause, resume or cancel did.
enum class campaign_change { changed, no_such_campaign, ended };

// Rows of a campaign by state and outcome (the outcome of a row whose call connected is its call record's).
struct campaign_count {
  std::string state, outcome;
  std::int64_t rows = 0;
};

// One transaction over the store's connection, holding the store's lock; rolled back unless committed.
class campaign_transaction {
 public:
  campaign_transaction(std::unique_lock<std::mutex> lock, sql_connection& db);
  ~campaign_transaction();
  campaign_transaction(campaign_transaction&&) = delete;

  std::optional<stored_campaign> lock_campaign(const std::string& id);
  std::size_t in_flight(const std::string& campaign_id);
  // The next queued row due by `now`, locked (skipping rows another instance holds).
  std::optional<stored_campaign_row> next_due_row(const std::string& campaign_id, std::int64_t now_ms);
  std::optional<stored_campaign_row> locked_row(const std::string& campaign_id, std::int64_t row_no);
  void set_call(const stored_campaign_row& row, const std::string& call_sid);
  bool opted_out(const std::string& number);
  void set_next_slot(const std::string& campaign_id, std::int64_t at_ms);
  // Dialling from `now_ms`; if no final status has settled it by `check_at_ms`, Twilio is asked for it.
  void start_attempt(const stored_campaign_row& row, const std::string& instance, std::int64_t now_ms,
                     std::int64_t check_at_ms);
  // Rows dialling whose check is due by `now_ms`, locked (skipping rows another instance is checking).
  std::vector<stored_campaign_row> unsettled_rows(std::int64_t now_ms, std::size_t limit);
  void set_check_at(const stored_campaign_row& row, std::int64_t at_ms);
  void requeue(const stored_campaign_row& row, std::int64_t at_ms, bool undo_attempt = false);
  void finish(const stored_campaign_row& row, const std::string& outcome);
  void commit();

 private:
  std::unique_lock<std::mutex> lock_;
  sql_connection& db_;
  bool postgres_;
  bool open_ = true;
};

}  // namespace voicebridge::records
