// One line per event, as text for people or JSON for machines (journald-friendly). Every line passes
// through one redaction step that replaces registered secrets, so a secret cannot reach the log by accident.
#pragma once
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>

namespace voicebridge::app {

enum class log_level { debug, info, warn, error };
enum class log_format { text, json };

struct log_field {
  std::string_view key;
  std::string value;
  log_field(std::string_view k, std::string_view v) : key(k), value(v) {}
  log_field(std::string_view k, const std::string& v) : key(k), value(v) {}
  log_field(std::string_view k, const char* v) : key(k), value(v) {}
  template <class N>
    requires std::is_arithmetic_v<N>
  log_field(std::string_view k, N v) : key(k), value(std::to_string(v)) {}
};

void configure_logging(log_level level, log_format format);
// Lines go to `out` (stderr by default); tests capture them.
void set_log_sink(std::ostream* out);
// Registers a secret: it is replaced by "[redacted]" wherever it appears in a line. Empty strings are ignored.
void add_log_secret(std::string_view secret);
bool log_enabled(log_level level);

void log(log_level level, std::string_view event, std::initializer_list<log_field> fields = {});

std::string_view to_string(log_level level);

}  // namespace voicebridge::app
