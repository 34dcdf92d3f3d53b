#include "util/csv.hpp"

namespace voicebridge::util {

result<std::vector<csv_record>> parse_csv(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<csv_record> records;
  csv_record record;
  std::string field;
  std::size_t line = 1;
  bool quoted = false, after_quote = false, in_record = false;
  const auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    after_quote = false;
  };
  const auto end_record = [&] {
    // A line holding nothing at all is skipped; one holding only commas is a record of empty fields.
    if (in_record) {
      end_field();
      records.push_back(std::move(record));
    }
    record = {};
    in_record = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!in_record) {
      record.line = line;
      in_record = c != '\n' && c != '\r';
    }
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
        after_quote = true;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else if (after_quote) {
      return fail("line " + std::to_string(line) + ": text after a closing quote");
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else {
      field += c;
    }
  }
  if (quoted) return fail("line " + std::to_string(record.line) + ": a quoted field is never closed");
  end_record();
  return records;
}

}  // namespace voicebridge::util
