// POST /api/campaigns: many outbound calls as the business hands them over, checked whole before anything is
// stored or dialled (sans-I/O). Either a JSON body with the settings and its `rows`, or a CSV upload (a header
// row naming `to`, optionally `timezone`, and any variables; one row per number) with the settings in the
// query string. Every bad row is named by its line (the CSV file's, or its index in `rows`), all of them up
// to a bound, so that a list is fixed in one go.
//
//   {"route": "reminders", "from": "+1…", "max_concurrent": 5, "calls_per_second": 2,
//    "machine_detection": true, "retry": {"busy": 2, "no_answer": 1, "failed": 1, "backoff_s": 300},
//    "window": {"hours": "Mon-Fri 09:00-18:00", "timezone": "America/New_York"},
//    "rows": [{"to": "+1…", "timezone": "Europe/Berlin", "first_name": "Ada"}, …]}
//
//   POST /api/campaigns?route=reminders&max_concurrent=5&calls_per_second=2&retry_busy=2&retry_no_answer=1&
//        retry_failed=1&backoff_s=300&window_hours=Mon-Fri%2009:00-18:00&timezone=America/New_York
//   Content-Type: text/csv
#pragma once
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/routes.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/util/result.hpp"

namespace voicebridge::server {

struct campaign_retry {
  unsigned busy = 0, no_answer = 0, failed = 0;  // further attempts after each kind of unanswered call
  std::chrono::seconds backoff{300};             // before the first retry; doubled for each after it
};

struct campaign_row {
  std::size_t line = 0;  // the CSV line, or the index in `rows` + 1
  std::string to;
  std::string timezone;  // the recipient's (IANA); empty: the window's
  std::vector<std::pair<std::string, std::string>> variables;
};

struct campaign_request {
  std::string name;  // optional: a person's label for it
  std::string route, from;
  unsigned max_concurrent = 1;
  double calls_per_second = 1;
  bool machine_detection = false;
  campaign_retry retry;
  opening_hours window = opening_hours::always();
  std::string window_hours;     // as written ("Mon-Fri 09:00-18:00"); empty: always
  std::string window_timezone;  // required with window hours
  std::vector<campaign_row> rows;
};

struct campaign_limits {
  std::size_t max_concurrent = 1;  // MAX_CALLS
  std::size_t max_rows = 100'000;
  static constexpr double max_calls_per_second = 100;
  static constexpr unsigned max_retries = 10;
  static constexpr std::size_t errors_named = 20;  // bad rows named in one answer; the rest are counted
};

// The settings as the call store keeps them with the campaign (everything but the rows), and back.
std::string settings_json(const campaign_request& c);
util::result<campaign_request> settings_from_json(std::string_view text);

util::result<campaign_request> parse_campaign_json(std::string_view body, const route_table& routes,
                                                   const campaign_limits& limits);
util::result<campaign_request> parse_campaign_csv(std::string_view csv, const twilio::form_params& settings,
                                                  const route_table& routes, const campaign_limits& limits);

}  // namespace voicebridge::server
