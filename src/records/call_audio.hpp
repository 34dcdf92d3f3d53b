// Call audio in the call store, for several instances (schema: call_store.cpp, migration 8). A recording or
// a voicemail is written to the disk of the instance that served the call; with PostgreSQL the record
// writer also copies it into the database, in chunks, before the call's record, so the read API of every
// instance can serve it (server/calls_api.cpp) once the record says it exists.
//
// Why the database and not object storage: several instances already need one PostgreSQL, and this adds no
// second service, credential or failure mode to run; a 10-minute two-channel recording is 9.6 MB, well
// within what PostgreSQL stores and streams back (see the issue note for the measurement).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace voicebridge::records {

namespace audio_kind {
inline constexpr std::string_view recording = "recording";
inline constexpr std::string_view voicemail = "voicemail";
}  // namespace audio_kind

// What one statement carries, and what the read API holds in memory per chunk while it serves a file.
inline constexpr std::size_t audio_chunk_bytes = 256 * 1024;

// A file stored whole: its size and its chunks (0 .. chunks-1). Its row is written after its last chunk.
struct stored_audio {
  std::int64_t bytes = 0;
  std::int64_t chunks = 0;
};

}  // namespace voicebridge::records
