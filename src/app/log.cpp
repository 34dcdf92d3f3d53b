#include "voicebridge/app/log.hpp"

#include "util/utf8.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <chrono>
#include <iostream>
#include <mutex>
#include <vector>

namespace voicebridge::app {
namespace {

struct logger_state {
  std::mutex mutex;
  log_level level = log_level::info;
  log_format format = log_format::text;
  std::ostream* out = &std::cerr;
  std::vector<std::string> secrets;
};

logger_state& state() {
  static logger_state s;
  return s;
}

std::string utc_timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto secs = time_point_cast<seconds>(now);
  const auto ms = duration_cast<milliseconds>(now - secs).count();
  const std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// A value that can stand in a text line as it is: printable ASCII without the characters that split or
// quote a line.
bool is_plain(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return c > ' ' && c < 0x7F && c != '"' && c != '=' && c != '\\';
  });
}

// `value` as the inside of a JSON string, for both formats: every control character (C0, DEL, and the C1
// range U+0080-U+009F, which some terminals obey as escapes) becomes a \u escape, and a byte that is not part
// of well-formed UTF-8 becomes U+FFFD. No value from the network can put a terminal escape, a carriage
// return or a NUL into an operator's terminal or journald, and a JSON line is always valid JSON.
void append_escaped(std::string& line, std::string_view value) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto unicode_escape = [&](unsigned code) {
    line += "\\u00";
    line += hex[code >> 4];
    line += hex[code & 0xF];
  };
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    const std::size_t n = util::utf8_sequence_length(value.substr(i));
    if (n == 0) {
      line += "\\ufffd";
      ++i;
      continue;
    }
    if (n == 2 && c == 0xC2 && static_cast<unsigned char>(value[i + 1]) <= 0x9F) {
      unicode_escape(static_cast<unsigned char>(value[i + 1]));  // a C1 control
    } else if (n > 1) {
      line.append(value.substr(i, n));
    } else if (c == '"' || c == '\\') {
      line += '\\';
      line += static_cast<char>(c);
    } else if (c == '\n') {
      line += "\\n";
    } else if (c == '\r') {
      line += "\\r";
    } else if (c == '\t') {
      line += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      unicode_escape(c);
    } else {
      line += static_cast<char>(c);
    }
    i += n;
  }
}

void append_quoted(std::string& line, std::string_view value) {
  line += '"';
  append_escaped(line, value);
  line += '"';
}

// Text values that are not plain are quoted and escaped, so a line stays one line and machine-splittable.
void append_text_value(std::string& line, std::string_view value) {
  if (is_plain(value)) line += value;
  else append_quoted(line, value);
}

// Credentials not known in advance (per-call stream tokens, signed URLs' signatures, request signatures)
// are recognised by name wherever a pair carries them: name=value (queries, text fields) or "name":"value".
constexpr std::array<std::string_view, 9> credential_names{
    "token", "stream_token", "conversation_signature", "signature", "x-twilio-signature",
    "xi-api-key", "api_key", "authorization", "signed_url"};

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

void redact_named_values(std::string& line) {
  constexpr std::string_view mask = "[redacted]";
  std::string lower(line.size(), '\0');
  std::transform(line.begin(), line.end(), lower.begin(), [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  // Right to left, so replacements do not move the positions still to visit.
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (auto name : credential_names) {
    for (auto pos = lower.find(name); pos != std::string::npos; pos = lower.find(name, pos + 1)) {
      if (pos > 0 && is_name_char(lower[pos - 1])) continue;
      std::size_t v = pos + name.size();
      if (v < lower.size() && lower[v] == '\\') ++v;  // a key quoted inside a JSON string: \"token\"
      if (v < lower.size() && lower[v] == '"') ++v;   // the closing quote of a JSON key
      if (v >= lower.size() || (lower[v] != '=' && lower[v] != ':')) continue;
      ++v;
      if (v < lower.size() && lower[v] == '\\') ++v;  // an escaped quote inside a JSON string
      if (v < lower.size() && lower[v] == '"') ++v;
      std::size_t end = v;
      while (end < line.size() && line.compare(end, mask.size(), mask) != 0 &&
             std::string_view("&\"\\ \n,;}").find(line[end]) == std::string_view::npos)
        ++end;
      if (end > v) spans.emplace_back(v, end - v);
    }
  }
  std::sort(spans.begin(), spans.end(), std::greater<>());
  std::size_t last = std::string::npos;
  for (auto [at, n] : spans) {
    if (at + n > last) continue;  // overlaps a span already masked
    line.replace(at, n, mask);
    last = at;
  }
}

void redact(std::string& line, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    for (auto pos = line.find(secret); pos != std::string::npos; pos = line.find(secret, pos)) {
      line.replace(pos, secret.size(), "[redacted]");
      pos += 10;
    }
  }
  redact_named_values(line);
}

}  // namespace

std::string_view to_string(log_level level) {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}

void configure_logging(log_level level, log_format format) {
  std::lock_guard lock(state().mutex);
  state().level = level;
  state().format = format;
}

void set_log_sink(std::ostream* out) {
  std::lock_guard lock(state().mutex);
  state().out = out ? out : &std::cerr;
}

void add_log_secret(std::string_view secret) {
  if (secret.empty()) return;
  std::lock_guard lock(state().mutex);
  auto& secrets = state().secrets;
  // Once each: routes add theirs at every reload.
  if (std::find(secrets.begin(), secrets.end(), secret) == secrets.end()) secrets.emplace_back(secret);
}

bool log_enabled(log_level level) { return level >= state().level; }

void log(log_level level, std::string_view event, std::initializer_list<log_field> fields) {
  if (!log_enabled(level)) return;
  auto& s = state();
  std::string line;
  if (s.format == log_format::json) {
    line = "{\"ts\":\"" + utc_timestamp() + "\",\"level\":\"" + std::string(to_string(level)) + "\",\"msg\":";
    append_quoted(line, event);
    for (const auto& f : fields) {
      line += ',';
      append_quoted(line, f.key);
      line += ':';
      append_quoted(line, f.value);
    }
    line += '}';
  } else {
    line = utc_timestamp();
    line += ' ';
    line += to_string(level);
    line += ' ';
    line += event;
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      append_text_value(line, f.value);
    }
  }
  std::lock_guard lock(s.mutex);
  redact(line, s.secrets);
  line += '\n';
  *s.out << line << std::flush;
}

}  // namespace voicebridge::app
