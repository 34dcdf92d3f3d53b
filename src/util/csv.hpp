// CSV as RFC 4180 writes it (fields separated by commas, records by CRLF or LF, a field in double quotes may
// hold commas, line breaks and "" for a quote), read whole, sans-I/O. Each record keeps the line it starts on,
// so that a mistake in an uploaded file is named by the line a person sees in their editor.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "voicebridge/util/result.hpp"

namespace voicebridge::util {

struct csv_record {
  std::size_t line = 0;  // 1-based: the line the record starts on
  std::vector<std::string> fields;
};

// Every record, blank lines skipped; a UTF-8 byte-order mark at the start is ignored. A quote left open, or
// text after a closing quote, is an error naming its line.
result<std::vector<csv_record>> parse_csv(std::string_view text);

}  // namespace voicebridge::util
