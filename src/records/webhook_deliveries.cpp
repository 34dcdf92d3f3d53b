// The webhook_deliveries table of the call store (schema: call_store.cpp, migration 6). The same SQL for
// SQLite and PostgreSQL but for the row locks of a lease, which SQLite (one writer, one process) does not need.
#include "records/webhook_deliveries.hpp"

#include "records/call_store.hpp"

namespace voicebridge::records {
namespace {

constexpr const char* delivery_columns =
    "id, kind, call_sid, state, attempts, due_at_ms, window_from_ms, created_at_ms, finished_at_ms, last_error";
const std::string has_final_status =
    std::string("EXISTS (SELECT 1 FROM calls WHERE calls.call_sid = $2 AND calls.twilio_status IN ") + final_call_statuses_sql + ")";

webhook_delivery delivery_from(const sql_row& r) {
  webhook_delivery d;
  d.id = r[0].value_or("");
  d.kind = r[1].value_or("");
  d.call_sid = r[2].value_or("");
  d.state = r[3].value_or("");
  d.attempts = static_cast<unsigned>(to_int_or_zero(r[4]));
  d.due_at_ms = to_int_or_zero(r[5]);
  d.window_from_ms = to_int_or_zero(r[6]);
  d.created_at_ms = to_int_or_zero(r[7]);
  d.finished_at_ms = to_int_or_zero(r[8]);
  d.last_error = r[9].value_or("");
  return d;
}

std::vector<webhook_delivery> deliveries_from(const std::vector<sql_row>& rows) {
  std::vector<webhook_delivery> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(delivery_from(r));
  return out;
}

}  // namespace

std::string delivery_id_for(const std::string& call_sid) { return "WH" + call_sid.substr(std::min<std::size_t>(2, call_sid.size())); }

void call_store::enqueue_delivery(const std::string& call_sid, std::int64_t now_ms, std::int64_t status_wait_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const std::string id = delivery_id_for(call_sid), now = std::to_string(now_ms);
  // The casts type the parameters for PostgreSQL (a SELECT list does not take its types from the columns);
  // "WHERE 1 = 1" keeps SQLite from reading ON CONFLICT as part of the SELECT.
  db_->exec("INSERT INTO webhook_deliveries (id, kind, call_sid, state, attempts, due_at_ms, window_from_ms,"
            " created_at_ms) SELECT $1, 'postcall', $2, 'pending', 0, CASE WHEN " + has_final_status +
                " THEN CAST($3 AS BIGINT) ELSE CAST($4 AS BIGINT) END, CAST($3 AS BIGINT),"
                " CAST($3 AS BIGINT) WHERE 1 = 1 ON CONFLICT (id) DO NOTHING",
            {id, call_sid, now, std::to_string(now_ms + status_wait_ms)});
  // Queued before (by the stream's record, or a status alone): due now if the final status is in.
  db_->exec("UPDATE webhook_deliveries SET due_at_ms = CAST($3 AS BIGINT) WHERE id = $1 AND state = 'pending'"
            " AND attempts = 0 AND due_at_ms > CAST($3 AS BIGINT) AND " + has_final_status,
            {id, call_sid, now});
}

std::optional<std::string> call_store::route_of(const std::string& call_sid) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const auto rows = db_->exec("SELECT route FROM calls WHERE call_sid = $1", {call_sid});
  if (rows.empty() || !rows[0][0]) return std::nullopt;
  return rows[0][0];
}

std::vector<webhook_delivery> call_store::lease_deliveries(const std::string& instance, std::int64_t now_ms,
                                                           std::int64_t lease_until_ms, std::size_t limit) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const bool postgres = std::string_view(db_->kind()) == "postgresql";
  return in_transaction_locked([&] {
    auto due = deliveries_from(db_->exec(
        std::string("SELECT ") + delivery_columns +
            " FROM webhook_deliveries WHERE state = 'pending' AND due_at_ms <= $1"
            " AND (lease_until_ms IS NULL OR lease_until_ms <= $1) ORDER BY due_at_ms LIMIT $2" +
            (postgres ? " FOR UPDATE SKIP LOCKED" : ""),
        {std::to_string(now_ms), std::to_string(limit)}));
    for (const auto& d : due)
      db_->exec("UPDATE webhook_deliveries SET leased_by = $1, lease_until_ms = $2 WHERE id = $3",
                {instance, std::to_string(lease_until_ms), d.id});
    return due;
  });
}

bool call_store::finish_delivery(const std::string& id, const std::string& instance, const delivery_result& result) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  using kind = delivery_result::kind;
  const std::string at = std::to_string(result.at_ms);
  const sql_value error = result.error.empty() ? std::nullopt : sql_value(result.error.substr(0, 300));
  const char* set = result.what == kind::delivered ? "state = 'delivered', finished_at_ms = $3, last_error = $4"
                    : result.what == kind::park    ? "state = 'failed', finished_at_ms = $3, last_error = $4"
                                                   : "due_at_ms = $3, last_error = $4";
  const auto changed = db_->exec(std::string("UPDATE webhook_deliveries SET ") + set +
                                     ", attempts = attempts + 1, leased_by = NULL, lease_until_ms = NULL"
                                     " WHERE id = $1 AND leased_by = $2 AND state = 'pending' RETURNING id",
                                 {id, instance, at, error});
  return !changed.empty();
}

std::vector<webhook_delivery> call_store::failed_deliveries(std::size_t limit) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  return deliveries_from(db_->exec(std::string("SELECT ") + delivery_columns +
                                       " FROM webhook_deliveries WHERE state = 'failed' ORDER BY finished_at_ms DESC, id LIMIT $1",
                                   {std::to_string(limit)}));
}

std::optional<webhook_delivery> call_store::find_delivery(const std::string& id) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  auto found = deliveries_from(
      db_->exec(std::string("SELECT ") + delivery_columns + " FROM webhook_deliveries WHERE id = $1", {id}));
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

bool call_store::retry_delivery(const std::string& id, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const std::string now = std::to_string(now_ms);
  const auto changed = db_->exec(
      "UPDATE webhook_deliveries SET state = 'pending', due_at_ms = $2, window_from_ms = $2, finished_at_ms = NULL"
      " WHERE id = $1 AND state <> 'delivered' RETURNING id",
      {id, now});
  return !changed.empty();
}

delivery_queue_stats call_store::delivery_stats() {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const auto rows = db_->exec(
      "SELECT state, COUNT(*), MIN(created_at_ms) FROM webhook_deliveries WHERE state IN ('pending', 'failed') GROUP BY state");
  delivery_queue_stats stats;
  for (const auto& r : rows) {
    if (r[0] == sql_value(delivery_state::pending)) {
      stats.pending = to_int_or_zero(r[1]);
      stats.oldest_created_at_ms = to_int(r[2]);
    } else if (r[0] == sql_value(delivery_state::failed)) {
      stats.failed = to_int_or_zero(r[1]);
    }
  }
  return stats;
}

}  // namespace voicebridge::records
