// PostgreSQL through libpq. Connects on first use; a broken connection is dropped and made again on the
// next statement, so the record writer's retries find the database once it is back.
#include <libpq-fe.h>

#include "records/call_store.hpp"

namespace voicebridge::records {
namespace {

// libpq's messages can name the host and user, never the password; keep them short and on one line.
std::string one_line(const char* message) {
  std::string text = message ? message : "";
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.size() > 300) text.resize(300);
  return text;
}

class postgres_connection final : public sql_connection {
 public:
  explicit postgres_connection(std::string url) : url_(std::move(url)) {}
  ~postgres_connection() override { drop(); }

  std::vector<sql_row> exec(const std::string& sql, const std::vector<sql_value>& params) override {
    connect();
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    std::unique_ptr<PGresult, decltype(&PQclear)> result(
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0),
        PQclear);
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string message = "PostgreSQL: " + one_line(PQerrorMessage(conn_));
      if (PQstatus(conn_) != CONNECTION_OK) drop();
      throw store_error(message);
    }
    std::vector<sql_row> rows;
    for (int r = 0; r < PQntuples(result.get()); ++r) {
      sql_row row;
      for (int c = 0; c < PQnfields(result.get()); ++c)
        row.push_back(PQgetisnull(result.get(), r, c) ? std::nullopt : sql_value(PQgetvalue(result.get(), r, c)));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  const char* kind() const override { return "postgresql"; }

 private:
  void connect() {
    if (conn_) return;
    // A bounded connect: the writer must come back to its queue while the database is unreachable.
    const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {url_.c_str(), "5", "voicebridge", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);  // 1: dbname holds the URL, expanded into its settings
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = "PostgreSQL connect failed: " + one_line(PQerrorMessage(conn_));
      drop();
      throw store_error(message);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "relation exists, skipping" and such
  }
  void drop() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
  }

  std::string url_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<sql_connection> open_postgres(const std::string& url) {
  return std::make_unique<postgres_connection>(url);
}

}  // namespace voicebridge::records
