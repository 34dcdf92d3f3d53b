// SQLite: one file in the state directory, WAL mode (readers never wait for the writer, a crash never
// corrupts it), synchronous=NORMAL (a power cut may lose the last transactions, never the file).
#include <sqlite3.h>

#include "records/call_store.hpp"

namespace voicebridge::records {
namespace {

class sqlite_connection final : public sql_connection {
 public:
  explicit sqlite_connection(const std::filesystem::path& file) {
    const int rc = sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw store_error("SQLite cannot open " + file.string() + ": " + message);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL", {});
    exec("PRAGMA synchronous=NORMAL", {});
  }
  ~sqlite_connection() override { sqlite3_close(db_); }

  std::vector<sql_row> exec(const std::string& sql, const std::vector<sql_value>& params) override {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK)
      throw store_error(std::string("SQLite: ") + sqlite3_errmsg(db_));
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(raw, sqlite3_finalize);
    for (std::size_t i = 0; i < params.size(); ++i) {
      // $1, $2, ...: PostgreSQL's placeholders, which SQLite reads as named parameters.
      const std::string name = "$" + std::to_string(i + 1);
      const int index = sqlite3_bind_parameter_index(raw, name.c_str());
      if (index == 0) continue;
      const int rc = params[i] ? sqlite3_bind_text(raw, index, params[i]->data(), static_cast<int>(params[i]->size()),
                                                   SQLITE_TRANSIENT)
                               : sqlite3_bind_null(raw, index);
      if (rc != SQLITE_OK) throw store_error(std::string("SQLite: ") + sqlite3_errmsg(db_));
    }
    std::vector<sql_row> rows;
    for (;;) {
      const int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) throw store_error(std::string("SQLite: ") + sqlite3_errmsg(db_));
      sql_row row;
      for (int c = 0; c < sqlite3_column_count(raw); ++c) {
        const auto* text = sqlite3_column_text(raw, c);
        row.push_back(text ? sql_value(std::string(reinterpret_cast<const char*>(text),
                                                   static_cast<std::size_t>(sqlite3_column_bytes(raw, c))))
                           : std::nullopt);
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  const char* kind() const override { return "sqlite"; }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<sql_connection> open_sqlite(const std::filesystem::path& file) {
  return std::make_unique<sqlite_connection>(file);
}

}  // namespace voicebridge::records
