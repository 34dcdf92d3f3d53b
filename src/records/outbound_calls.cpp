// The outbound_calls table of the call store: what POST /api/calls asked for, from before it is dialled.
// The same SQL for SQLite and PostgreSQL; the Idempotency-Key's UNIQUE constraint decides, in the database,
// which of two concurrent requests with one key dials (on any instance sharing the database).
#include <boost/json.hpp>

#include "records/call_store.hpp"
#include "records/variables_json.hpp"

namespace voicebridge::records {
namespace {

constexpr const char* outbound_columns =
    "id, idempotency_key, call_sid, route, to_number, from_number, variables, machine_detection, created_at_ms";

}  // namespace

call_store::reservation call_store::reserve_outbound(const outbound_call& row) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const auto key = row.idempotency_key.empty() ? std::nullopt : sql_value(row.idempotency_key);
  db_->exec(std::string("INSERT INTO outbound_calls (") + outbound_columns +
                ") VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING",
            {row.id, key, row.route, row.to, row.from, variables_json(row.variables), row.machine_detection ? "1" : "0",
             std::to_string(row.created_at_ms)});
  if (!key) return {true, row};
  auto holder = outbound_where("idempotency_key", *key);
  if (!holder) throw store_error("outbound call reservation vanished");  // deleted between the two statements
  const bool fresh = holder->id == row.id;
  return {fresh, std::move(*holder)};
}

void call_store::attach_call_sid(const std::string& id, const std::string& call_sid) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  db_->exec("UPDATE outbound_calls SET call_sid = $1 WHERE id = $2", {call_sid, id});
}

void call_store::release_outbound(const std::string& id) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  db_->exec("DELETE FROM outbound_calls WHERE id = $1 AND call_sid IS NULL", {id});
}

std::optional<outbound_call> call_store::find_outbound(const std::string& id) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  return outbound_where("id", id);
}

std::optional<outbound_call> call_store::find_outbound_by_key(const std::string& idempotency_key) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  return outbound_where("idempotency_key", idempotency_key);
}

std::optional<outbound_call> call_store::find_outbound_by_call_sid(const std::string& call_sid) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  return outbound_where("call_sid", call_sid);
}

// With the lock held; `column` is one of this file's own names, never the caller's text.
std::optional<outbound_call> call_store::outbound_where(const std::string& column, const std::string& value) {
  const auto rows =
      db_->exec(std::string("SELECT ") + outbound_columns + " FROM outbound_calls WHERE " + column + " = $1", {value});
  if (rows.empty()) return std::nullopt;
  const auto& r = rows.front();
  outbound_call out;
  out.id = r[0].value_or("");
  out.idempotency_key = r[1].value_or("");
  out.call_sid = r[2].value_or("");
  out.route = r[3].value_or("");
  out.to = r[4].value_or("");
  out.from = r[5].value_or("");
  out.variables = variables_from_json(r[6].value_or("{}"));
  out.machine_detection = r[7].value_or("0") == "1";
  out.created_at_ms = r[8] ? std::stoll(*r[8]) : 0;
  return out;
}

}  // namespace voicebridge::records
