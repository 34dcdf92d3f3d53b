// The call_streams table of the call store (schema: call_store.cpp, migration 7). The same SQL for SQLite and
// PostgreSQL; every change is one statement keyed by the call SID, so two instances never half-apply one.
#include "records/call_streams.hpp"

#include "records/call_store.hpp"
#include "records/variables_json.hpp"

namespace voicebridge::records {
namespace {

constexpr const char* stream_columns = "call_sid, instance, route, state, parameters, reconnects, updated_at_ms";

call_stream stream_from(const sql_row& r) {
  call_stream s;
  s.call_sid = r[0].value_or("");
  s.instance = r[1].value_or("");
  s.route = r[2].value_or("");
  s.state = r[3].value_or("");
  s.parameters = variables_from_json(r[4].value_or("{}"));
  s.reconnects = static_cast<unsigned>(to_int_or_zero(r[5]));
  s.updated_at_ms = to_int_or_zero(r[6]);
  return s;
}

}  // namespace

void call_store::stream_started(const call_stream& s) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  db_->exec(
      "INSERT INTO call_streams (call_sid, instance, route, state, parameters, reconnects, updated_at_ms)"
      " VALUES ($1, $2, $3, $4, $5, 0, $6)"
      " ON CONFLICT (call_sid) DO UPDATE SET instance = excluded.instance, state = excluded.state,"
      " updated_at_ms = excluded.updated_at_ms",
      {s.call_sid, s.instance, s.route, std::string(stream_state::streaming), variables_json(s.parameters),
       std::to_string(s.updated_at_ms)});
}

void call_store::stream_ended(const std::string& call_sid, const std::string& instance, std::string_view state,
                              std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  db_->exec("UPDATE call_streams SET state = $3, updated_at_ms = $4 WHERE call_sid = $1 AND instance = $2",
            {call_sid, instance, std::string(state), std::to_string(now_ms)});
}

std::optional<call_stream> call_store::find_stream(const std::string& call_sid) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const auto rows = db_->exec(std::string("SELECT ") + stream_columns + " FROM call_streams WHERE call_sid = $1", {call_sid});
  if (rows.empty()) return std::nullopt;
  return stream_from(rows[0]);
}

std::optional<call_stream> call_store::claim_reconnect(const std::string& call_sid, std::string_view from_state,
                                                        std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const auto rows = db_->exec(std::string("UPDATE call_streams SET state = $3, reconnects = reconnects + 1, updated_at_ms = $4"
                                          " WHERE call_sid = $1 AND state = $2 RETURNING ") + stream_columns,
                              {call_sid, std::string(from_state), std::string(stream_state::reconnecting), std::to_string(now_ms)});
  if (rows.empty()) return std::nullopt;
  return stream_from(rows[0]);
}

void call_store::stream_dropped(const std::string& call_sid, const std::string& instance, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  db_->exec("UPDATE call_streams SET state = $3, updated_at_ms = $4 WHERE call_sid = $1 AND instance = $2 AND state = $5",
            {call_sid, instance, std::string(stream_state::lost), std::to_string(now_ms), std::string(stream_state::streaming)});
}

void call_store::heartbeat(const std::string& instance, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  db_->exec("INSERT INTO instances (instance, heartbeat_at_ms) VALUES ($1, $2)"
            " ON CONFLICT (instance) DO UPDATE SET heartbeat_at_ms = excluded.heartbeat_at_ms",
            {instance, std::to_string(now_ms)});
}

std::vector<std::pair<std::string, std::size_t>> call_store::streams_elsewhere(const std::string& instance,
                                                                                std::int64_t alive_since_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const auto rows = db_->exec(
      "SELECT s.route, COUNT(*) FROM call_streams s JOIN instances i ON i.instance = s.instance"
      " WHERE s.state = $1 AND s.instance <> $2 AND i.heartbeat_at_ms >= $3 GROUP BY s.route",
      {std::string(stream_state::streaming), instance, std::to_string(alive_since_ms)});
  std::vector<std::pair<std::string, std::size_t>> counts;
  for (const auto& r : rows) counts.emplace_back(r[0].value_or(""), static_cast<std::size_t>(to_int_or_zero(r[1])));
  return counts;
}

void call_store::add_transcript_line(const std::string& call_sid, const std::string& stream_sid, unsigned line_no,
                                     const transcript_line& line, std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  db_->exec("INSERT INTO call_transcripts (call_sid, stream_sid, line_no, role, text, at_ms) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (call_sid, stream_sid, line_no) DO NOTHING",
            {call_sid, stream_sid, std::to_string(line_no), line.role, line.text, std::to_string(at_ms)});
}

std::vector<transcript_line> call_store::transcript_so_far(const std::string& call_sid) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const auto rows = db_->exec("SELECT role, text, at_ms FROM call_transcripts WHERE call_sid = $1 ORDER BY at_ms, line_no"
                              " LIMIT $2",
                              {call_sid, std::to_string(call_record::max_transcript_lines)});
  std::vector<transcript_line> lines;
  lines.reserve(rows.size());
  for (const auto& r : rows) lines.push_back({r[0].value_or(""), r[1].value_or(""), 0, to_int_or_zero(r[2])});
  return lines;
}

std::size_t call_store::prune_streams(std::int64_t before_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const std::vector<sql_value> before{std::to_string(before_ms)};
  db_->exec("DELETE FROM call_transcripts WHERE at_ms < $1", before);
  return db_->exec("DELETE FROM call_streams WHERE updated_at_ms < $1 RETURNING call_sid", before).size();
}

}  // namespace voicebridge::records
