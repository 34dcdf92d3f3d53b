// The call_audio tables of the call store (records/call_audio.hpp). Chunks travel as hex text through the
// same text-only statements as everything else: PostgreSQL keeps them as BYTEA (decode/encode at the
// server), SQLite as the hex text itself (it never needs them: one instance serves its own files).
#include "records/call_audio.hpp"

#include <fstream>

#include "records/call_store.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::records {

std::optional<std::int64_t> call_store::share_audio(const std::string& call_sid, std::string_view kind,
                                                    const std::filesystem::path& file, std::int64_t now_ms) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return std::nullopt;
  const std::vector<sql_value> key{call_sid, std::string(kind)};
  {
    std::lock_guard lock(mutex_);
    migrate_locked();
    // A replayed record (spooled while the database was down) finds its audio there already.
    const auto rows = db_->exec("SELECT bytes FROM call_audio_files WHERE call_sid = $1 AND kind = $2", key);
    if (!rows.empty() && to_int(rows[0][0]) == static_cast<std::int64_t>(size)) return static_cast<std::int64_t>(size);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  const bool postgres = std::string_view(db_->kind()) == "postgresql";
  const std::string insert = std::string("INSERT INTO call_audio_chunks (call_sid, kind, chunk_no, data) VALUES ($1, $2, $3, ") +
                             (postgres ? "decode($4, 'hex')" : "$4") +
                             ") ON CONFLICT (call_sid, kind, chunk_no) DO UPDATE SET data = excluded.data";
  std::string chunk(audio_chunk_bytes, '\0');
  std::int64_t chunks = 0, bytes = 0;
  for (;;) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    // One chunk per lock: the read API of this instance is never held up for a whole file.
    std::lock_guard lock(mutex_);
    db_->exec(insert, {call_sid, std::string(kind), std::to_string(chunks), util::hex_lower(std::string_view(chunk.data(), got))});
    ++chunks;
    bytes += static_cast<std::int64_t>(got);
    if (got < chunk.size()) break;
  }
  if (in.bad()) return std::nullopt;
  std::lock_guard lock(mutex_);
  // Chunks a longer earlier copy left beyond this one's end are dropped before the file row says it is whole.
  db_->exec("DELETE FROM call_audio_chunks WHERE call_sid = $1 AND kind = $2 AND chunk_no >= $3",
            {call_sid, std::string(kind), std::to_string(chunks)});
  db_->exec("INSERT INTO call_audio_files (call_sid, kind, bytes, chunks, stored_at_ms) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (call_sid, kind) DO UPDATE SET bytes = excluded.bytes, chunks = excluded.chunks,"
            " stored_at_ms = excluded.stored_at_ms",
            {call_sid, std::string(kind), std::to_string(bytes), std::to_string(chunks), std::to_string(now_ms)});
  return bytes;
}

std::optional<stored_audio> call_store::find_audio(const std::string& call_sid, std::string_view kind) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const auto rows = db_->exec("SELECT bytes, chunks FROM call_audio_files WHERE call_sid = $1 AND kind = $2",
                              {call_sid, std::string(kind)});
  if (rows.empty()) return std::nullopt;
  return stored_audio{to_int_or_zero(rows[0][0]), to_int_or_zero(rows[0][1])};
}

std::string call_store::audio_chunk(const std::string& call_sid, std::string_view kind, std::int64_t chunk_no) {
  std::lock_guard lock(mutex_);
  migrate_locked();
  const bool postgres = std::string_view(db_->kind()) == "postgresql";
  const auto rows = db_->exec(std::string("SELECT ") + (postgres ? "encode(data, 'hex')" : "data") +
                                  " FROM call_audio_chunks WHERE call_sid = $1 AND kind = $2 AND chunk_no = $3",
                              {call_sid, std::string(kind), std::to_string(chunk_no)});
  if (rows.empty() || !rows[0][0]) throw store_error("call audio: a stored chunk is missing");
  auto bytes = util::from_hex(*rows[0][0]);
  if (!bytes) throw store_error("call audio: a stored chunk is not hex");
  return std::move(*bytes);
}

}  // namespace voicebridge::records
