// Routes (ROUTES_FILE): many numbers and agents in one deployment. Each route names the called numbers it
// answers and carries its own settings: the environment's configuration with the route's keys laid over it,
// so that a call is built from one app::config whatever route it took. Parsed and checked at load (every
// mistake is one line naming the route and the key), then only looked up: sans-I/O, no clock of its own.
#pragma once
#include <array>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "voicebridge/app/config.hpp"
#include "voicebridge/util/result.hpp"

namespace voicebridge::server {

// "Mon-Fri 08:00-18:00, Sat 09:00-12:00": when a route is open, in its own time zone's local time.
class opening_hours {
 public:
  static util::result<opening_hours> parse(std::string_view text);
  static opening_hours always() { return opening_hours(); }
  // `weekday`: 0 Sunday .. 6 Saturday; `minute`: of the local day, 0..1439.
  bool open_at(unsigned weekday, unsigned minute) const;
  bool is_always() const { return always_; }

 private:
  bool always_ = true;
  std::array<std::vector<std::pair<unsigned, unsigned>>, 7> open_{};  // per weekday: [from, to) in minutes
};

struct route {
  std::string name;
  std::vector<std::string> numbers;  // E.164 called numbers (`To`)
  bool catch_all = false;            // "*": every number no other route names
  app::config settings;                   // the environment's, with this route's keys over it
  std::optional<std::size_t> max_calls;  // this route's share (MAX_CALLS stays the process limit)
  std::vector<std::pair<std::string, std::string>> dynamic_variables;  // added to each call's
  std::string caller_id;  // the From of the calls placed for this route
  std::optional<std::filesystem::path> system_prompt_file;  // read by whoever loads the file (this is sans-I/O)
  opening_hours hours = opening_hours::always();
  std::string hours_text;   // as the file says them (empty: always open)
  std::string timezone;     // IANA name; empty with always-open hours
  std::string after_hours;  // "voicemail", or the name of the route that takes the call
};

class route_table {
 public:
  // Without ROUTES_FILE: the environment is the one route, "default", taking every number.
  static route_table single(const app::config& base);
  // The routes file's text. `env` resolves api_key_env and llm_api_key_env (keys never sit in the file).
  static util::result<route_table> parse(std::string_view toml_text, const app::config& base,
                                         const app::env_lookup& env);

  // The route for a called number: the one naming it, else the catch-all; nullptr if neither.
  const route* for_number(std::string_view to) const;
  const route* named(std::string_view name) const;
  const route* catch_all() const;  // the route for "*", if one takes it
  const std::vector<route>& routes() const { return routes_; }

 private:
  std::vector<route> routes_;
};

// Whether `r` is open at `now` in its time zone (the system's tz database); a zone unknown to it is an error.
util::result<bool> is_open(const route& r, std::chrono::system_clock::time_point now);
util::result<bool> is_open(const opening_hours& hours, const std::string& timezone, std::chrono::system_clock::time_point now);
// The first minute at or after `now` when `hours` are open in `timezone` (`now` itself when open), within a
// week; nullopt for hours never open. A zone unknown to the tz database is an error.
util::result<std::optional<std::chrono::system_clock::time_point>> next_opening(
    const opening_hours& hours, const std::string& timezone, std::chrono::system_clock::time_point now);
bool known_timezone(const std::string& timezone);

}  // namespace voicebridge::server
