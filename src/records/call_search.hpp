// Which call records a listing asks for (the console's calls page): every field optional, newest first, one
// page at a time by a keyset cursor (the last record's start and call SID), so a page is as cheap deep in the
// history as at its top and a call stored meanwhile does not shift the pages.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace voicebridge::records {

struct call_cursor {
  std::int64_t started_ms = 0;
  std::string call_sid;
};

struct call_filter {
  std::optional<std::string> route, outcome;
  std::optional<std::string> direction;  // "inbound" or "outbound" (placed by POST /api/calls or a campaign)
  std::optional<std::string> number;     // the caller's or the called number
  std::optional<std::int64_t> since_ms, until_ms;  // started in [since, until)
  std::optional<call_cursor> after;      // the page after the one that ended with this record
  std::size_t limit = 50;
};

}  // namespace voicebridge::records
