// Call records in a database: SQLite (embedded, the default) or PostgreSQL, behind one small interface.
// The SQL is the same for both (upserts keyed by call SID, so writes can be replayed); each backend only
// runs statements. Thread-safe: the record writer and the read API share a store.
#pragma once
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "records/call_audio.hpp"
#include "records/call_record.hpp"
#include "records/call_search.hpp"
#include "records/call_streams.hpp"
#include "records/campaigns.hpp"
#include "records/webhook_deliveries.hpp"

namespace voicebridge::app {
struct config;
}

namespace voicebridge::records {

// The database could not do it (down, unreachable, full). The message never holds credentials.
struct store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Twilio's call status callback: the call's final status and duration.
struct status_update {
  std::string call_sid, status;
  std::optional<std::int64_t> duration_s;
  // A call that ended before any stream (an outbound call busy, unanswered, failed, canceled): its outcome.
  // It fills only an empty one: a record the stream wrote keeps its own.
  std::optional<std::string> outcome;
};

// An outbound call as POST /api/calls asked for it, kept from before it is dialled: its Idempotency-Key
// holds the place, the outbound TwiML reads its variables back when the callee answers.
struct outbound_call {
  std::string id;               // the gateway's own (in the TwiML URL); random, not guessable
  std::string idempotency_key;  // empty: none
  std::string call_sid;         // Twilio's, once it accepted the call
  std::string route, to, from;
  std::vector<std::pair<std::string, std::string>> variables;
  bool machine_detection = false;
  std::int64_t created_at_ms = 0;
};

using sql_value = std::optional<std::string>;  // nullopt: NULL
using sql_row = std::vector<sql_value>;
// A column's integer; nullopt for NULL or text that is not one.
std::optional<std::int64_t> to_int(const sql_value& v);
inline std::int64_t to_int_or_zero(const sql_value& v) { return to_int(v).value_or(0); }

// One database connection that runs one statement at a time, with $1, $2, ... parameters.
class sql_connection {
 public:
  virtual ~sql_connection() = default;
  virtual std::vector<sql_row> exec(const std::string& sql, const std::vector<sql_value>& params = {}) = 0;
  virtual const char* kind() const = 0;
};

std::unique_ptr<sql_connection> open_sqlite(const std::filesystem::path& file);  // throws store_error
// Connects on first use and again after a failure, so a database that comes back is used again.
std::unique_ptr<sql_connection> open_postgres(const std::string& url);

class call_store {
 public:
  explicit call_store(std::unique_ptr<sql_connection> connection) : db_(std::move(connection)) {}

  void migrate();  // brings the schema up to date; idempotent
  void save(const call_record& record);  // insert or replace; keeps a status already stored
  void save_status(const status_update& update);  // inserts a bare row if the record is not there yet
  // Newest first; with `route`, only that route's calls.
  std::vector<call_record> recent(std::size_t limit, const std::optional<std::string>& route = std::nullopt);
  std::optional<call_record> find(const std::string& call_sid);
  // The records `filter` selects, newest first (records/call_search.cpp).
  std::vector<call_record> search(const call_filter& filter);

  // Outbound calls (records/outbound_calls.cpp). reserve_outbound inserts the row, unless its idempotency key
  // is held already: then the row that holds it is returned instead (`fresh` false).
  struct reservation {
    bool fresh = false;
    outbound_call row;
  };
  reservation reserve_outbound(const outbound_call& row);
  void attach_call_sid(const std::string& id, const std::string& call_sid);
  void release_outbound(const std::string& id);  // Twilio refused it: the key may be used again
  std::optional<outbound_call> find_outbound(const std::string& id);
  std::optional<outbound_call> find_outbound_by_key(const std::string& idempotency_key);
  std::optional<outbound_call> find_outbound_by_call_sid(const std::string& call_sid);
  const char* kind() const { return db_->kind(); }

  // Campaigns and opt-outs (records/campaigns.cpp).
  void create_campaign(const stored_campaign& campaign, const std::vector<stored_campaign_row>& rows);
  std::optional<stored_campaign> find_campaign(const std::string& id);
  std::vector<campaign_count> campaign_counts(const std::string& id);
  std::vector<stored_campaign> running_campaigns();
  std::vector<stored_campaign> recent_campaigns(std::size_t limit);  // newest first, whatever their state
  // Paused, running again, or cancelled (its queued rows are done with outcome "cancelled"); a campaign that
  // has ended (done or cancelled) is not changed.
  campaign_change set_campaign_state(const std::string& id, const std::string& state);
  // The attempt's call, and when to ask Twilio for its status should no final status have settled it.
  void attach_row_call(const std::string& campaign_id, std::int64_t row_no, unsigned attempt, const std::string& call_sid,
                       std::int64_t check_at_ms);
  void add_opt_out(const std::string& number, const std::string& source, std::int64_t now_ms);
  bool remove_opt_out(const std::string& number);
  bool is_opted_out(const std::string& number);
  std::unique_ptr<campaign_transaction> begin_campaign_transaction();

  // Post-call webhooks (records/webhook_deliveries.cpp). The call's delivery is queued (once: a second
  // enqueue changes nothing but may make it due sooner), due at `now` when Twilio's final status is in, else
  // after `status_wait` (a final status arriving meanwhile makes it due: save_status).
  void enqueue_delivery(const std::string& call_sid, std::int64_t now_ms, std::int64_t status_wait_ms);
  std::optional<std::string> route_of(const std::string& call_sid);
  // Up to `limit` due deliveries, leased to `instance` until `lease_until_ms` (no other instance takes them
  // meanwhile; a lease that runs out, its instance gone, is taken by the next look).
  std::vector<webhook_delivery> lease_deliveries(const std::string& instance, std::int64_t now_ms,
                                                 std::int64_t lease_until_ms, std::size_t limit);
  // The attempt's result, for a delivery this instance still holds (false: its lease was lost meanwhile).
  bool finish_delivery(const std::string& id, const std::string& instance, const delivery_result& result);
  std::vector<webhook_delivery> failed_deliveries(std::size_t limit);
  std::optional<webhook_delivery> find_delivery(const std::string& id);
  // A parked (or still pending) delivery due now, its retry window starting again; false for a delivered one.
  bool retry_delivery(const std::string& id, std::int64_t now_ms);
  delivery_queue_stats delivery_stats();

  // Where each call's stream is served (records/call_streams.cpp). A stream that starts takes the row (a fresh
  // stream of the same call moves it to its own instance, keeping its parameters' first copy and the count).
  void stream_started(const call_stream& stream);
  // How the stream ended, written by the instance that serves it (a row another instance took since is left).
  void stream_ended(const std::string& call_sid, const std::string& instance, std::string_view state, std::int64_t now_ms);
  std::optional<call_stream> find_stream(const std::string& call_sid);
  // One fresh stream for a call whose stream is `from_state` still (two action requests for one end take it
  // once); the row as it stands after, or nullopt when another request took it first.
  std::optional<call_stream> claim_reconnect(const std::string& call_sid, std::string_view from_state, std::int64_t now_ms);
  // The stream ended on its instance with nothing stored of its end (it dropped): `lost`, if still `streaming`.
  void stream_dropped(const std::string& call_sid, const std::string& instance, std::int64_t now_ms);
  // This instance is alive (a row per instance), and how many streams each route has on the other live ones
  // (those that beat since `alive_since_ms`): the route limits hold across instances.
  void heartbeat(const std::string& instance, std::int64_t now_ms);
  std::vector<std::pair<std::string, std::size_t>> streams_elsewhere(const std::string& instance, std::int64_t alive_since_ms);
  // A line of the call's transcript as its stream goes (once: a repeated line_no of the stream is ignored), and
  // every line stored for the call so far, in the order they were said, across its streams.
  void add_transcript_line(const std::string& call_sid, const std::string& stream_sid, unsigned line_no,
                           const transcript_line& line, std::int64_t at_ms);
  std::vector<transcript_line> transcript_so_far(const std::string& call_sid);
  // Rows (and transcript lines) not touched since `before_ms` (their calls are long over): removed; how many.
  std::size_t prune_streams(std::int64_t before_ms);

  // Call audio for every instance (records/call_audio.cpp). share_audio copies a finished file in, chunk by
  // chunk (nothing, when the same size is stored already); its size, or nullopt when the file cannot be read.
  std::optional<std::int64_t> share_audio(const std::string& call_sid, std::string_view kind,
                                          const std::filesystem::path& file, std::int64_t now_ms);
  std::optional<stored_audio> find_audio(const std::string& call_sid, std::string_view kind);
  std::string audio_chunk(const std::string& call_sid, std::string_view kind, std::int64_t chunk_no);  // its bytes

 private:
  void migrate_locked();
  // `work` between BEGIN and COMMIT, with the lock held; rolled back (and rethrown) when it throws.
  template <class Work>
  auto in_transaction_locked(Work&& work) {
    db_->exec("BEGIN");
    try {
      if constexpr (std::is_void_v<decltype(work())>) {
        work();
        db_->exec("COMMIT");
      } else {
        auto result = work();
        db_->exec("COMMIT");
        return result;
      }
    } catch (...) {
      try {
        db_->exec("ROLLBACK");
      } catch (const store_error&) {  // the connection is gone: the database rolled it back itself
      }
      throw;
    }
  }
  void insert_opt_out_locked(const std::string& number, const std::string& source, std::int64_t now_ms);
  std::vector<call_record> to_records(const std::vector<sql_row>& rows);
  std::optional<outbound_call> outbound_where(const std::string& column, const std::string& value);

  std::mutex mutex_;
  std::unique_ptr<sql_connection> db_;
  bool migrated_ = false;
};

// The configured store: SQLite in STATE_DIR, or PostgreSQL at DATABASE_URL. The state directory (recordings,
// SQLite, spool) is made first; one that cannot be made, or a SQLite file that cannot be opened, throws
// app::config_error and stops the start. PostgreSQL may be down at start: records are spooled until it answers.
std::shared_ptr<call_store> open_configured_store(const app::config& config);

}  // namespace voicebridge::records
