// call_store::search: the SQL for a call_filter, the same for SQLite and PostgreSQL (the values are bound
// parameters, never text in the statement).
#include <string>
#include <vector>

#include "records/call_store.hpp"

namespace voicebridge::records {

std::vector<call_record> call_store::search(const call_filter& f) {
  std::string sql =
      "SELECT call_sid, record, twilio_status, twilio_duration_s, outcome FROM calls WHERE 1 = 1";
  std::vector<sql_value> params;
  const auto bind = [&](std::string value) {
    params.emplace_back(std::move(value));
    return "$" + std::to_string(params.size());
  };
  if (f.route) sql += " AND route = " + bind(*f.route);
  if (f.outcome) sql += " AND outcome = " + bind(*f.outcome);
  if (f.number) {
    const auto n = bind(*f.number);
    sql += " AND (from_number = " + n + " OR to_number = " + n + ")";
  }
  if (f.since_ms) sql += " AND COALESCE(started_at_ms, 0) >= " + bind(std::to_string(*f.since_ms));
  if (f.until_ms) sql += " AND COALESCE(started_at_ms, 0) < " + bind(std::to_string(*f.until_ms));
  if (f.direction) {
    // Outbound: placed by POST /api/calls or dialled for a campaign (both keep the call SID they were given).
    const std::string placed =
        "(EXISTS (SELECT 1 FROM outbound_calls o WHERE o.call_sid = calls.call_sid)"
        " OR EXISTS (SELECT 1 FROM campaign_rows r WHERE r.call_sid = calls.call_sid))";
    sql += *f.direction == "outbound" ? " AND " + placed : " AND NOT " + placed;
  }
  if (f.after) {
    // The order below: started descending, then call SID ascending.
    const auto started = bind(std::to_string(f.after->started_ms));
    const auto sid = bind(f.after->call_sid);
    sql += " AND (COALESCE(started_at_ms, 0) < " + started + " OR (COALESCE(started_at_ms, 0) = " + started +
           " AND call_sid > " + sid + "))";
  }
  sql += " ORDER BY COALESCE(started_at_ms, 0) DESC, call_sid LIMIT " + bind(std::to_string(f.limit));
  std::lock_guard lock(mutex_);
  migrate_locked();
  return to_records(db_->exec(sql, params));
}

}  // namespace voicebridge::records
