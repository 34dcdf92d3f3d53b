// The campaign tables of the call store (schema: call_store.cpp, migration 4). The same SQL for SQLite and
// PostgreSQL but for the row locks, which SQLite (one writer, one process) does not need.
#include "records/campaigns.hpp"

#include "records/call_store.hpp"
#include "records/variables_json.hpp"

namespace voicebridge::records {
namespace {

constexpr const char* row_columns =
    "campaign_id, row_no, to_number, timezone, variables, state, attempts, next_attempt_at_ms, call_sid, outcome,"
    " claimed_at_ms";
constexpr const char* campaign_columns = "id, name, route, from_number, settings, state, next_slot_at_ms, created_at_ms";
constexpr std::size_t rows_per_insert = 200;

stored_campaign campaign_from(const sql_row& r) {
  return {r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or(""), r[4].value_or("{}"),
          r[5].value_or(""), to_int_or_zero(r[6]), to_int_or_zero(r[7])};
}

stored_campaign_row row_from(const sql_row& r) {
  stored_campaign_row row;
  row.campaign_id = r[0].value_or("");
  row.row_no = to_int_or_zero(r[1]);
  row.to = r[2].value_or("");
  row.timezone = r[3].value_or("");
  row.variables = variables_from_json(r[4].value_or("{}"));
  row.state = r[5].value_or("");
  row.attempts = static_cast<unsigned>(to_int_or_zero(r[6]));
  row.next_attempt_at_ms = to_int_or_zero(r[7]);
  row.call_sid = r[8].value_or("");
  row.outcome = r[9].value_or("");
  row.claimed_at_ms = to_int_or_zero(r[10]);
  return row;
}

}  // namespace

// --- one transaction ---

campaign_transaction::campaign_transaction(std::unique_lock<std::mutex> lock, sql_connection& db)
    : lock_(std::move(lock)), db_(db), postgres_(std::string_view(db.kind()) == "postgresql") {
  db_.exec("BEGIN");
}

campaign_transaction::~campaign_transaction() {
  if (!open_) return;
  try {
    db_.exec("ROLLBACK");
  } catch (const store_error&) {  // the connection is gone: the database rolled it back itself
  }
}

void campaign_transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

std::optional<stored_campaign> campaign_transaction::lock_campaign(const std::string& id) {
  const auto rows = db_.exec(std::string("SELECT ") + campaign_columns + " FROM campaigns WHERE id = $1" +
                                 (postgres_ ? " FOR UPDATE" : ""),
                             {id});
  if (rows.empty()) return std::nullopt;
  return campaign_from(rows.front());
}

std::size_t campaign_transaction::in_flight(const std::string& campaign_id) {
  const auto rows = db_.exec("SELECT COUNT(*) FROM campaign_rows WHERE campaign_id = $1 AND state = $2",
                             {campaign_id, std::string(row_state::dialling)});
  return rows.empty() ? 0 : static_cast<std::size_t>(to_int_or_zero(rows[0][0]));
}

std::optional<stored_campaign_row> campaign_transaction::next_due_row(const std::string& campaign_id, std::int64_t now_ms) {
  const auto rows = db_.exec(std::string("SELECT ") + row_columns +
                                 " FROM campaign_rows WHERE campaign_id = $1 AND state = $2 AND next_attempt_at_ms <= $3"
                                 " ORDER BY next_attempt_at_ms, row_no LIMIT 1" +
                                 (postgres_ ? " FOR UPDATE SKIP LOCKED" : ""),
                             {campaign_id, std::string(row_state::queued), std::to_string(now_ms)});
  if (rows.empty()) return std::nullopt;
  return row_from(rows.front());
}

std::optional<stored_campaign_row> campaign_transaction::locked_row(const std::string& campaign_id, std::int64_t row_no) {
  const auto rows = db_.exec(std::string("SELECT ") + row_columns + " FROM campaign_rows WHERE campaign_id = $1 AND row_no = $2" +
                                 (postgres_ ? " FOR UPDATE" : ""),
                             {campaign_id, std::to_string(row_no)});
  if (rows.empty()) return std::nullopt;
  return row_from(rows.front());
}

void campaign_transaction::set_call(const stored_campaign_row& row, const std::string& call_sid) {
  db_.exec("UPDATE campaign_rows SET call_sid = $1 WHERE campaign_id = $2 AND row_no = $3",
           {call_sid, row.campaign_id, std::to_string(row.row_no)});
}

bool campaign_transaction::opted_out(const std::string& number) {
  return !db_.exec("SELECT 1 FROM opt_outs WHERE number = $1", {number}).empty();
}

void campaign_transaction::set_next_slot(const std::string& campaign_id, std::int64_t at_ms) {
  db_.exec("UPDATE campaigns SET next_slot_at_ms = $1 WHERE id = $2", {std::to_string(at_ms), campaign_id});
}

void campaign_transaction::start_attempt(const stored_campaign_row& row, const std::string& instance, std::int64_t now_ms,
                                         std::int64_t check_at_ms) {
  db_.exec("UPDATE campaign_rows SET state = $1, attempts = attempts + 1, call_sid = NULL, claimed_by = $2,"
           " claimed_at_ms = $3, check_at_ms = $4 WHERE campaign_id = $5 AND row_no = $6",
           {std::string(row_state::dialling), instance, std::to_string(now_ms), std::to_string(check_at_ms),
            row.campaign_id, std::to_string(row.row_no)});
}

std::vector<stored_campaign_row> campaign_transaction::unsettled_rows(std::int64_t now_ms, std::size_t limit) {
  const auto rows = db_.exec(std::string("SELECT ") + row_columns +
                                 " FROM campaign_rows WHERE state = $1 AND check_at_ms <= $2 ORDER BY check_at_ms LIMIT $3" +
                                 (postgres_ ? " FOR UPDATE SKIP LOCKED" : ""),
                             {std::string(row_state::dialling), std::to_string(now_ms), std::to_string(limit)});
  std::vector<stored_campaign_row> out;
  for (const auto& r : rows) out.push_back(row_from(r));
  return out;
}

void campaign_transaction::set_check_at(const stored_campaign_row& row, std::int64_t at_ms) {
  // Only for the attempt looked at: a row retried meanwhile keeps its new attempt's time.
  db_.exec("UPDATE campaign_rows SET check_at_ms = $1 WHERE campaign_id = $2 AND row_no = $3 AND attempts = $4",
           {std::to_string(at_ms), row.campaign_id, std::to_string(row.row_no), std::to_string(row.attempts)});
}

void campaign_transaction::requeue(const stored_campaign_row& row, std::int64_t at_ms, bool undo_attempt) {
  db_.exec(std::string("UPDATE campaign_rows SET state = $1, next_attempt_at_ms = $2, claimed_by = NULL") +
               (undo_attempt ? ", attempts = attempts - 1" : "") + " WHERE campaign_id = $3 AND row_no = $4",
           {std::string(row_state::queued), std::to_string(at_ms), row.campaign_id, std::to_string(row.row_no)});
}

void campaign_transaction::finish(const stored_campaign_row& row, const std::string& outcome) {
  db_.exec("UPDATE campaign_rows SET state = $1, outcome = $2, claimed_by = NULL WHERE campaign_id = $3 AND row_no = $4",
           {std::string(row_state::done), outcome, row.campaign_id, std::to_string(row.row_no)});
  // The last row done ends a running campaign.
  const auto left = db_.exec("SELECT COUNT(*) FROM campaign_rows WHERE campaign_id = $1 AND state <> $2",
                             {row.campaign_id, std::string(row_state::done)});
  if (!left.empty() && to_int_or_zero(left[0][0]) == 0)
    db_.exec("UPDATE campaigns SET state = $1 WHERE id = $2 AND state = $3",
             {std::string(campaign_state::done), row.campaign_id, std::string(campaign_state::running)});
}

// --- the store ---

std::unique_ptr<campaign_transaction> call_store::begin_campaign_transaction() {
  std::unique_lock lock(mutex_);
  migrate_locked();
  return std::make_unique<campaign_transaction>(std::move(lock), *db_);
}

void call_store::create_campaign(const stored_campaign& c, const std::vector<stored_campaign_row>& rows) {
  auto t = begin_campaign_transaction();  // all of it, or nothing: a half-stored campaign never runs
  db_->exec(std::string("INSERT INTO campaigns (") + campaign_columns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            {c.id, c.name, c.route, c.from, c.settings_json, c.state, std::to_string(c.next_slot_at_ms),
             std::to_string(c.created_at_ms)});
  for (std::size_t first = 0; first < rows.size(); first += rows_per_insert) {
    std::string sql = "INSERT INTO campaign_rows (campaign_id, row_no, to_number, timezone, variables, state, attempts,"
                      " next_attempt_at_ms) VALUES ";
    std::vector<sql_value> params;
    for (std::size_t i = first; i < std::min(rows.size(), first + rows_per_insert); ++i) {
      const auto n = params.size();
      sql += (i == first ? "" : ", ") + std::string("($") + std::to_string(n + 1) + ", $" + std::to_string(n + 2) + ", $" +
             std::to_string(n + 3) + ", $" + std::to_string(n + 4) + ", $" + std::to_string(n + 5) + ", $" +
             std::to_string(n + 6) + ", 0, $" + std::to_string(n + 7) + ")";
      const auto& r = rows[i];
      for (auto v : {c.id, std::to_string(r.row_no), r.to, r.timezone, variables_json(r.variables),
                     std::string(row_state::queued), std::to_string(r.next_attempt_at_ms)})
        params.emplace_back(std::move(v));
    }
    db_->exec(sql, params);
  }
  t->commit();
}

std::optional<stored_campaign> call_store::find_campaign(const std::string& id) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const auto rows = db_->exec(std::string("SELECT ") + campaign_columns + " FROM campaigns WHERE id = $1", {id});
  if (rows.empty()) return std::nullopt;
  return campaign_from(rows.front());
}

std::vector<stored_campaign> call_store::running_campaigns() {
  std::lock_guard lock(mutex_);
  migrate_locked();
  std::vector<stored_campaign> out;
  for (const auto& r : db_->exec(std::string("SELECT ") + campaign_columns + " FROM campaigns WHERE state = $1 ORDER BY created_at_ms",
                                 {std::string(campaign_state::running)}))
    out.push_back(campaign_from(r));
  return out;
}

std::vector<stored_campaign> call_store::recent_campaigns(std::size_t limit) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  std::vector<stored_campaign> out;
  for (const auto& r : db_->exec(std::string("SELECT ") + campaign_columns +
                                     " FROM campaigns ORDER BY created_at_ms DESC, id LIMIT $1",
                                 {std::to_string(limit)}))
    out.push_back(campaign_from(r));
  return out;
}

std::vector<campaign_count> call_store::campaign_counts(const std::string& id) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  // A row whose call connected has the call record's outcome (agent, voicemail_left, ...); the rest their own.
  const auto rows = db_->exec(
      "SELECT r.state, COALESCE(NULLIF(c.outcome, ''), r.outcome, ''), COUNT(*) FROM campaign_rows r"
      " LEFT JOIN calls c ON c.call_sid = r.call_sid WHERE r.campaign_id = $1"
      " GROUP BY r.state, COALESCE(NULLIF(c.outcome, ''), r.outcome, '')",
      {id});
  std::vector<campaign_count> out;
  for (const auto& r : rows) out.push_back({r[0].value_or(""), r[1].value_or(""), to_int_or_zero(r[2])});
  return out;
}

campaign_change call_store::set_campaign_state(const std::string& id, const std::string& state) {
  auto t = begin_campaign_transaction();
  const auto campaign = t->lock_campaign(id);
  if (!campaign) return campaign_change::no_such_campaign;
  if (campaign->state == campaign_state::done || campaign->state == campaign_state::cancelled) return campaign_change::ended;
  db_->exec("UPDATE campaigns SET state = $1 WHERE id = $2", {state, id});
  if (state == campaign_state::cancelled)  // calls in progress go on; nothing more is dialled
    db_->exec("UPDATE campaign_rows SET state = $1, outcome = $2 WHERE campaign_id = $3 AND state = $4",
              {std::string(row_state::done), std::string("cancelled"), id, std::string(row_state::queued)});
  t->commit();
  return campaign_change::changed;
}

void call_store::attach_row_call(const std::string& campaign_id, std::int64_t row_no, unsigned attempt,
                                 const std::string& call_sid, std::int64_t check_at_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  // Only to the attempt that placed it: a late attach never lands on the row's next attempt.
  db_->exec("UPDATE campaign_rows SET call_sid = $1, check_at_ms = $2 WHERE campaign_id = $3 AND row_no = $4"
            " AND attempts = $5 AND (call_sid IS NULL OR call_sid = $1)",
            {call_sid, std::to_string(check_at_ms), campaign_id, std::to_string(row_no), std::to_string(attempt)});
}

void call_store::add_opt_out(const std::string& number, const std::string& source, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  insert_opt_out_locked(number, source, now_ms);
}

void call_store::insert_opt_out_locked(const std::string& number, const std::string& source, std::int64_t now_ms) {
  db_->exec("INSERT INTO opt_outs (number, source, added_at_ms) VALUES ($1, $2, $3) ON CONFLICT (number) DO NOTHING",
            {number, source, std::to_string(now_ms)});
}

bool call_store::remove_opt_out(const std::string& number) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const bool there = !db_->exec("SELECT 1 FROM opt_outs WHERE number = $1", {number}).empty();
  db_->exec("DELETE FROM opt_outs WHERE number = $1", {number});
  return there;
}

bool call_store::is_opted_out(const std::string& number) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  return !db_->exec("SELECT 1 FROM opt_outs WHERE number = $1", {number}).empty();
}

}  // namespace voicebridge::records
