#include "records/call_store.hpp"

#include <charconv>

#include "voicebridge/app/config.hpp"
#include "voicebridge/app/log.hpp"

namespace voicebridge::records {
namespace {

// Applied in order, each once; the schema_version table says how far a database is.
const std::vector<std::vector<std::string>> migrations{
    {
        "CREATE TABLE calls ("
        " call_sid TEXT PRIMARY KEY,"
        " started_at_ms BIGINT,"
        " ended_at_ms BIGINT,"
        " outcome TEXT,"
        " from_number TEXT,"
        " to_number TEXT,"
        " record TEXT,"  // the whole record as JSON (transcript, codes, paths)
        " twilio_status TEXT,"
        " twilio_duration_s BIGINT)",
        "CREATE INDEX calls_started ON calls (started_at_ms)",
    },
    {
        // Routes (ROUTES_FILE): which route served the call, for GET /api/calls?route=NAME.
        "ALTER TABLE calls ADD COLUMN route TEXT",
        "CREATE INDEX calls_route_started ON calls (route, started_at_ms)",
    },
    {
        // Outbound calls (POST /api/calls): the request, kept from before Twilio is asked to dial it.
        "CREATE TABLE outbound_calls ("
        " id TEXT PRIMARY KEY,"
        " idempotency_key TEXT UNIQUE,"  // NULL for requests without one (UNIQUE allows many NULLs)
        " call_sid TEXT UNIQUE,"
        " route TEXT NOT NULL,"
        " to_number TEXT NOT NULL,"
        " from_number TEXT NOT NULL,"
        " variables TEXT NOT NULL,"  // JSON object of strings
        " machine_detection INTEGER NOT NULL,"
        " created_at_ms BIGINT NOT NULL)",
    },
    {
        // Campaigns (POST /api/campaigns): each campaign, each of its numbers and their attempts, opt-outs.
        "CREATE TABLE campaigns ("
        " id TEXT PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " route TEXT NOT NULL,"
        " from_number TEXT NOT NULL,"
        " settings TEXT NOT NULL,"  // JSON: pace, retries, window, machine detection
        " state TEXT NOT NULL,"
        " next_slot_at_ms BIGINT NOT NULL,"
        " created_at_ms BIGINT NOT NULL)",
        "CREATE TABLE campaign_rows ("
        " campaign_id TEXT NOT NULL,"
        " row_no BIGINT NOT NULL,"
        " to_number TEXT NOT NULL,"
        " timezone TEXT NOT NULL,"
        " variables TEXT NOT NULL,"
        " state TEXT NOT NULL,"
        " attempts INTEGER NOT NULL,"
        " next_attempt_at_ms BIGINT NOT NULL,"
        " call_sid TEXT UNIQUE,"
        " outcome TEXT,"
        " claimed_by TEXT,"
        " claimed_at_ms BIGINT,"
        " PRIMARY KEY (campaign_id, row_no))",
        "CREATE INDEX campaign_rows_due ON campaign_rows (campaign_id, state, next_attempt_at_ms)",
        "CREATE TABLE opt_outs (number TEXT PRIMARY KEY, source TEXT NOT NULL, added_at_ms BIGINT NOT NULL)",
    },
    {
        // A row left dialling whose final status never came (its instance died) is looked up at Twilio then.
        "ALTER TABLE campaign_rows ADD COLUMN check_at_ms BIGINT",
        "CREATE INDEX campaign_rows_unsettled ON campaign_rows (state, check_at_ms)",
        "UPDATE campaign_rows SET check_at_ms = COALESCE(claimed_at_ms, 0) + 120000 WHERE state = 'dialling'",
    },
    {
        // Post-call webhooks (records/webhook_deliveries.hpp): the queue, durable and shared by instances.
        "CREATE TABLE webhook_deliveries ("
        " id TEXT PRIMARY KEY,"
        " kind TEXT NOT NULL,"
        " call_sid TEXT NOT NULL,"
        " state TEXT NOT NULL,"
        " attempts INTEGER NOT NULL,"
        " due_at_ms BIGINT NOT NULL,"
        " window_from_ms BIGINT NOT NULL,"
        " created_at_ms BIGINT NOT NULL,"
        " finished_at_ms BIGINT,"
        " leased_by TEXT,"
        " lease_until_ms BIGINT,"
        " last_error TEXT)",
        "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, due_at_ms)",
    },
    {
        // Several instances (records/call_streams.hpp): where each call's stream is served, and how it ended.
        "CREATE TABLE call_streams ("
        " call_sid TEXT PRIMARY KEY,"
        " instance TEXT NOT NULL,"
        " route TEXT NOT NULL,"
        " state TEXT NOT NULL,"
        " parameters TEXT NOT NULL,"  // JSON object of strings
        " reconnects INTEGER NOT NULL,"
        " updated_at_ms BIGINT NOT NULL)",
        "CREATE INDEX call_streams_updated ON call_streams (updated_at_ms)",
        "CREATE INDEX call_streams_live ON call_streams (state, route)",
        // Each instance's last sign of life: the streams of one that stopped beating count nowhere.
        "CREATE TABLE instances (instance TEXT PRIMARY KEY, heartbeat_at_ms BIGINT NOT NULL)",
        // What was said, line by line as the call goes: a fresh stream after a crash continues from it.
        "CREATE TABLE call_transcripts ("
        " call_sid TEXT NOT NULL,"
        " stream_sid TEXT NOT NULL,"
        " line_no INTEGER NOT NULL,"
        " role TEXT NOT NULL,"
        " text TEXT NOT NULL,"
        " at_ms BIGINT NOT NULL,"
        " PRIMARY KEY (call_sid, stream_sid, line_no))",
        "CREATE INDEX call_transcripts_at ON call_transcripts (at_ms)",  // the hourly prune
    },
    {
        // Recordings and voicemails for every instance (records/call_audio.hpp): a file's row is written after
        // its last chunk, so a row means the whole file is there.
        "CREATE TABLE call_audio_files ("
        " call_sid TEXT NOT NULL,"
        " kind TEXT NOT NULL,"
        " bytes BIGINT NOT NULL,"
        " chunks INTEGER NOT NULL,"
        " stored_at_ms BIGINT NOT NULL,"
        " PRIMARY KEY (call_sid, kind))",
        "CREATE TABLE call_audio_chunks ("
        " call_sid TEXT NOT NULL,"
        " kind TEXT NOT NULL,"
        " chunk_no INTEGER NOT NULL,"
        " data BYTEA NOT NULL,"
        " PRIMARY KEY (call_sid, kind, chunk_no))",
    },
};


}  // namespace

std::optional<std::int64_t> to_int(const sql_value& v) {
  if (!v) return std::nullopt;
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size()) return std::nullopt;
  return out;
}

void call_store::migrate() {
  std::lock_guard lock(mutex_);
  migrate_locked();
}

void call_store::migrate_locked() {
  if (migrated_) return;
  // Instances that start together on one PostgreSQL migrate one at a time: the others wait, then find the
  // schema current (concurrent CREATE TABLEs would fail). SQLite has one process.
  const bool shared = std::string_view(db_->kind()) == "postgresql";
  if (shared) db_->exec("SELECT pg_advisory_lock(7370012)");
  struct unlock_on_exit {
    sql_connection* db;
    ~unlock_on_exit() {
      if (!db) return;
      try {
        db->exec("SELECT pg_advisory_unlock(7370012)");
      } catch (const store_error&) {  // the connection is gone, and its session lock with it
      }
    }
  } unlock{shared ? db_.get() : nullptr};
  db_->exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const auto rows = db_->exec("SELECT MAX(version) FROM schema_version");
  const auto current = rows.empty() ? std::nullopt : to_int(rows[0][0]);
  for (std::size_t v = static_cast<std::size_t>(current.value_or(0)); v < migrations.size(); ++v) {
    in_transaction_locked([&] {
      for (const auto& statement : migrations[v]) db_->exec(statement);
      db_->exec("INSERT INTO schema_version (version) VALUES ($1)", {std::to_string(v + 1)});
    });
    app::log(app::log_level::info, "call records: schema migrated", {{"database", db_->kind()}, {"version", v + 1}});
    // SQLite's write-ahead log would keep every page the migrations write (over 200 kB for the whole schema)
    // until an automatic checkpoint 1,000 pages later: fold each one into the database as it is done.
    if (!shared) db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  migrated_ = true;
}

void call_store::save(const call_record& r) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  db_->exec(
      "INSERT INTO calls (call_sid, started_at_ms, ended_at_ms, outcome, from_number, to_number, record, route)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
      " ON CONFLICT (call_sid) DO UPDATE SET started_at_ms = excluded.started_at_ms,"
      // An outcome a status callback set first (a call that ended before its record) is not blanked.
      " ended_at_ms = excluded.ended_at_ms, outcome = COALESCE(NULLIF(excluded.outcome, ''), calls.outcome),"
      " from_number = excluded.from_number,"
      " to_number = excluded.to_number, record = excluded.record, route = excluded.route",
      {r.call_sid, std::to_string(epoch_ms(r.started)), std::to_string(epoch_ms(r.ended)), r.outcome, r.from, r.to,
       to_json(r), r.route.empty() ? std::nullopt : sql_value(r.route)});
  // With the record, so that a spooled record lands its opt-out too: the callee's number (the caller's, inbound).
  if (r.opted_out) insert_opt_out_locked(r.direction == "outbound" ? r.to : r.from, "key:" + r.call_sid, epoch_ms(r.ended));
}

void call_store::save_status(const status_update& u) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  db_->exec(
      "INSERT INTO calls (call_sid, twilio_status, twilio_duration_s, outcome) VALUES ($1, $2, $3, $4)"
      " ON CONFLICT (call_sid) DO UPDATE SET twilio_status = excluded.twilio_status,"
      " twilio_duration_s = COALESCE(excluded.twilio_duration_s, calls.twilio_duration_s),"
      " outcome = CASE WHEN calls.outcome IS NULL OR calls.outcome = '' THEN excluded.outcome ELSE calls.outcome END",
      {u.call_sid, u.status, u.duration_s ? sql_value(std::to_string(*u.duration_s)) : std::nullopt, u.outcome});
  // The record is complete now: a post-call delivery waiting for this status is due (webhook_deliveries.cpp).
  // By its id (the primary key): every status callback passes here.
  if (is_final_call_status(u.status))
    db_->exec("UPDATE webhook_deliveries SET due_at_ms = $2 WHERE id = $1 AND state = 'pending' AND attempts = 0"
              " AND due_at_ms > $2",
              {delivery_id_for(u.call_sid), std::to_string(now_epoch_ms())});
}

std::vector<call_record> call_store::recent(std::size_t limit, const std::optional<std::string>& route) {
  call_filter filter;
  filter.route = route;
  filter.limit = limit;
  return search(filter);
}

std::optional<call_record> call_store::find(const std::string& call_sid) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  auto records = to_records(db_->exec(
      "SELECT call_sid, record, twilio_status, twilio_duration_s, outcome FROM calls WHERE call_sid = $1", {call_sid}));
  if (records.empty()) return std::nullopt;
  return std::move(records.front());
}

std::vector<call_record> call_store::to_records(const std::vector<sql_row>& rows) {
  std::vector<call_record> out;
  for (const auto& row : rows) {
    call_record r;
    if (row[1]) {
      auto parsed = record_from_json(*row[1]);
      if (parsed) r = std::move(*parsed);
    }
    r.call_sid = row[0].value_or("");
    r.twilio_status = row[2].value_or("");
    r.twilio_duration_s = to_int(row[3]);
    if (r.outcome.empty()) r.outcome = row[4].value_or("");  // set by a status callback alone (save_status)
    out.push_back(std::move(r));
  }
  return out;
}

// The state directory (recordings, SQLite, spool) and the call store; a state directory that cannot be
// made, or a SQLite file that cannot be opened, stops the start. PostgreSQL may be down at start: records
// are spooled until it answers.
std::shared_ptr<call_store> open_configured_store(const app::config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.recordings_dir(), ec);
  if (ec) throw app::config_error("STATE_DIR: cannot create " + config.recordings_dir().string() + ": " + ec.message());
  try {
    if (config.database_url.empty()) {
      auto store = std::make_shared<call_store>(open_sqlite(config.state_dir / "calls.sqlite3"));
      store->migrate();
      return store;
    }
    auto store = std::make_shared<call_store>(open_postgres(config.database_url));
    try {
      store->migrate();
    } catch (const store_error& e) {
      app::log(app::log_level::error, "call records: PostgreSQL unavailable at start; records are spooled until it answers",
          {{"error", e.what()}});
    }
    return store;
  } catch (const store_error& e) {
    throw app::config_error(std::string("DATABASE_URL: ") + e.what());
  }
}

}  // namespace voicebridge::records
