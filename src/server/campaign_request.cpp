#include "server/campaign_request.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <set>

#include "server/outbound_request.hpp"
#include "util/csv.hpp"
#include "util/json_fields.hpp"
#include "util/utf8.hpp"
#include "voicebridge/twilio/twiml.hpp"

namespace voicebridge::server {
namespace json = boost::json;

namespace {

// The bad rows of one list: each named with its line, up to a bound, then counted.
class row_errors {
 public:
  explicit row_errors(std::string_view where) : where_(where) {}
  void add(std::size_t line, const std::string& message) {
    if (named_.size() < campaign_limits::errors_named)
      named_.push_back(std::string(where_) + " " + std::to_string(line) + ": " + message);
    ++count_;
  }
  bool any() const { return count_ > 0; }
  util::error_text error() const {
    std::string text;
    for (const auto& e : named_) text += (text.empty() ? "" : "\n") + e;
    if (count_ > named_.size()) text += "\n… and " + std::to_string(count_ - named_.size()) + " more bad rows";
    return util::fail(std::move(text));
  }

 private:
  std::string_view where_;
  std::vector<std::string> named_;
  std::size_t count_ = 0;
};

util::result<unsigned> small_count(const json::object& o, std::string_view key, std::int64_t min, std::int64_t max,
                                   std::int64_t fallback) {
  const auto* v = o.if_contains(key);
  if (!v) return static_cast<unsigned>(fallback);
  if (!v->is_int64() || v->get_int64() < min || v->get_int64() > max)
    return util::fail(std::string(key) + ": expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return static_cast<unsigned>(v->get_int64());
}

// The settings every campaign has, from the JSON body or the CSV upload's query (turned into the same object).
util::result<campaign_request> read_settings(const json::object& o, const route_table& routes,
                                             const campaign_limits& limits) {
  static const std::set<std::string_view> known{"name", "route", "from", "max_concurrent", "calls_per_second",
                                                "machine_detection", "retry", "window", "rows"};
  for (const auto& [key, value] : o)
    if (!known.contains(key)) return util::fail("unknown field " + std::string(key).substr(0, 64));
  campaign_request c;
  VB_TRY(name, util::string_field(o, "name", false));
  if (name.size() > 200 || !util::is_xml_text(name)) return util::fail("name: at most 200 printable characters");
  c.name = std::move(name);
  VB_TRY(route_name, util::string_field(o, "route", false));
  VB_TRY(chosen, requested_route(route_name, routes));
  c.route = chosen->name;
  VB_TRY(from, util::string_field(o, "from", false));
  VB_TRY(checked_from, requested_from(std::move(from), *chosen));
  c.from = std::move(checked_from);
  VB_TRY(concurrent, small_count(o, "max_concurrent", 1, static_cast<std::int64_t>(limits.max_concurrent), 1));
  c.max_concurrent = concurrent;
  if (const auto* v = o.if_contains("calls_per_second")) {
    const double cps = v->is_int64() ? static_cast<double>(v->get_int64()) : v->is_double() ? v->get_double() : -1;
    if (!(cps > 0 && cps <= campaign_limits::max_calls_per_second))
      return util::fail("calls_per_second: expected a number above 0, at most 100 (Twilio's limit for the account)");
    c.calls_per_second = cps;
  }
  if (const auto* v = o.if_contains("machine_detection")) {
    if (!v->is_bool()) return util::fail("machine_detection: expected true or false");
    c.machine_detection = v->get_bool();
  }
  VB_TRY(retry, util::object_field(o, "retry", false));
  if (retry) {
    for (const auto& [key, value] : *retry)
      if (key != "busy" && key != "no_answer" && key != "failed" && key != "backoff_s")
        return util::fail("retry: unknown field " + std::string(key).substr(0, 64) + " (busy, no_answer, failed, backoff_s)");
    const auto max = static_cast<std::int64_t>(campaign_limits::max_retries);
    VB_TRY(busy, small_count(*retry, "busy", 0, max, 0));
    VB_TRY(no_answer, small_count(*retry, "no_answer", 0, max, 0));
    VB_TRY(failed, small_count(*retry, "failed", 0, max, 0));
    VB_TRY(backoff, small_count(*retry, "backoff_s", 1, 7 * 24 * 3600, 300));
    c.retry = {busy, no_answer, failed, std::chrono::seconds(backoff)};
  }
  VB_TRY(window, util::object_field(o, "window", false));
  if (window) {
    for (const auto& [key, value] : *window)
      if (key != "hours" && key != "timezone") return util::fail("window: unknown field " + std::string(key).substr(0, 64));
    const auto* hours_value = window->if_contains("hours");
    const auto* zone_value = window->if_contains("timezone");
    if (!hours_value || !hours_value->is_string() || !zone_value || !zone_value->is_string())
      return util::fail("window: expected {\"hours\": \"Mon-Fri 09:00-18:00\", \"timezone\": \"America/New_York\"}");
    const std::string hours_text(hours_value->get_string());
    auto hours = opening_hours::parse(hours_text);
    if (!hours) return util::fail("window: hours: " + hours.error().message);
    c.window = *hours;
    c.window_hours = hours_text;
    std::string zone(zone_value->get_string());
    if (!known_timezone(zone)) return util::fail("window: timezone: " + zone.substr(0, 64) + " is not in the tz database");
    c.window_timezone = std::move(zone);
  }
  return c;
}

// One row's number, time zone and variables, checked; `seen` catches a number listed twice (it would be
// dialled twice).
std::optional<std::string> check_row(campaign_row& row, std::set<std::string>& seen) {
  if (!twilio::is_e164(row.to)) return "to: expected an E.164 number (+15551234567), got '" + row.to.substr(0, 32) + "'";
  if (!row.timezone.empty() && !known_timezone(row.timezone))
    return "timezone: " + row.timezone.substr(0, 64) + " is not in the tz database";
  if (row.variables.size() > max_outbound_variables)
    return "at most " + std::to_string(max_outbound_variables) + " variables";
  for (const auto& [name, value] : row.variables)
    if (auto error = variable_error(name, value)) return *error;
  if (!seen.insert(row.to).second) return "to: " + row.to + " is listed twice";
  return std::nullopt;
}

// Checked before the rows are read: a list that is too long is not read through.
std::optional<util::error_text> too_many_rows(std::size_t rows, const campaign_limits& limits) {
  if (rows <= limits.max_rows) return std::nullopt;
  return util::fail("rows: at most " + std::to_string(limits.max_rows) + " per campaign");
}

util::result<campaign_request> finish(campaign_request c, row_errors& errors) {
  if (errors.any()) return errors.error();
  if (c.rows.empty()) return util::fail("rows: no numbers to call");
  return c;
}

}  // namespace

util::result<campaign_request> parse_campaign_json(std::string_view body, const route_table& routes,
                                                   const campaign_limits& limits) {
  auto parsed = util::parse_json_object(body);
  if (!parsed) return util::fail("body: expected a JSON object (" + parsed.error().message + ")");
  const auto& o = parsed->get_object();
  VB_TRY(c, read_settings(o, routes, limits));
  const auto* rows = o.if_contains("rows");
  if (!rows || !rows->is_array()) return util::fail("rows: expected a list of {\"to\": \"+1…\", …}");
  if (auto error = too_many_rows(rows->get_array().size(), limits)) return *error;
  row_errors errors("rows item");
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const auto& item : rows->get_array()) {
    campaign_row row;
    row.line = ++index;
    if (!item.is_object()) {
      errors.add(row.line, "expected an object");
      continue;
    }
    std::optional<std::string> error;
    for (const auto& [key, value] : item.get_object()) {
      if (key == "to" || key == "timezone") {
        if (!value.is_string()) error = std::string(key) + ": expected a string";
        else (key == "to" ? row.to : row.timezone) = std::string(value.get_string());
        continue;
      }
      auto text = variable_text(value);
      if (!text) error = std::string(key).substr(0, 64) + ": " + text.error().message;
      else row.variables.emplace_back(std::string(key), std::move(*text));
    }
    if (!error) error = check_row(row, seen);
    if (error) errors.add(row.line, *error);
    else c.rows.push_back(std::move(row));
  }
  return finish(std::move(c), errors);
}

util::result<campaign_request> parse_campaign_csv(std::string_view csv, const twilio::form_params& settings,
                                                  const route_table& routes, const campaign_limits& limits) {
  // The query's settings as the JSON body would hold them: numbers where a number is meant.
  json::object o;
  json::object retry, window;
  for (const auto& [key, value] : settings.all()) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    const bool integer = ec == std::errc() && end == value.data() + value.size() && !value.empty();
    const json::value v = integer ? json::value(n) : json::value(json::string(value));
    if (key == "retry_busy" || key == "retry_no_answer" || key == "retry_failed") retry[key.substr(6)] = v;
    else if (key == "backoff_s") retry["backoff_s"] = v;
    else if (key == "window_hours") window["hours"] = v;
    else if (key == "timezone") window["timezone"] = v;
    else if (key == "machine_detection") o[key] = value == "true" ? json::value(true) : value == "false" ? json::value(false) : v;
    else if (key == "calls_per_second") {
      double d = 0;
      const auto [dend, dec] = std::from_chars(value.data(), value.data() + value.size(), d);
      o[key] = dec == std::errc() && dend == value.data() + value.size() ? json::value(d) : v;
    } else o[key] = v;
  }
  if (!retry.empty()) o["retry"] = std::move(retry);
  if (!window.empty()) o["window"] = std::move(window);
  VB_TRY(c, read_settings(o, routes, limits));

  auto records = util::parse_csv(csv);
  if (!records) return util::fail("csv: " + records.error().message);
  if (records->empty()) return util::fail("csv: empty (expected a header row naming to, then one row per number)");
  const auto& header = records->front().fields;
  const std::string header_line = "csv: line " + std::to_string(records->front().line) + ": ";
  std::optional<std::size_t> to_column, zone_column;
  std::set<std::string> names;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (!names.insert(header[i]).second) return util::fail(header_line + "column " + header[i].substr(0, 64) + " is named twice");
    if (header[i] == "to") to_column = i;
    else if (header[i] == "timezone") zone_column = i;
    else if (auto error = variable_error(header[i], "")) return util::fail(header_line + "column " + *error);
  }
  if (!to_column) return util::fail(header_line + "no column named to");
  if (auto error = too_many_rows(records->size() - 1, limits)) return *error;
  row_errors errors("csv: line");
  std::set<std::string> seen;
  for (std::size_t r = 1; r < records->size(); ++r) {
    const auto& record = (*records)[r];
    campaign_row row;
    row.line = record.line;
    if (record.fields.size() != header.size()) {
      errors.add(row.line, std::to_string(record.fields.size()) + " fields, the header has " + std::to_string(header.size()));
      continue;
    }
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (i == *to_column) row.to = record.fields[i];
      else if (zone_column && i == *zone_column) row.timezone = record.fields[i];
      else if (!record.fields[i].empty()) row.variables.emplace_back(header[i], record.fields[i]);
    }
    if (auto error = check_row(row, seen)) errors.add(row.line, *error);
    else c.rows.push_back(std::move(row));
  }
  return finish(std::move(c), errors);
}

std::string settings_json(const campaign_request& c) {
  json::object o{{"name", c.name},
                 {"max_concurrent", c.max_concurrent},
                 {"calls_per_second", c.calls_per_second},
                 {"machine_detection", c.machine_detection},
                 {"retry", json::object{{"busy", c.retry.busy},
                                        {"no_answer", c.retry.no_answer},
                                        {"failed", c.retry.failed},
                                        {"backoff_s", c.retry.backoff.count()}}}};
  if (!c.window_hours.empty()) o["window"] = json::object{{"hours", c.window_hours}, {"timezone", c.window_timezone}};
  return json::serialize(o);
}

util::result<campaign_request> settings_from_json(std::string_view text) {
  auto parsed = util::parse_json_object(text);
  if (!parsed) return util::fail("campaign settings: " + parsed.error().message);
  const auto& o = parsed->get_object();
  campaign_request c;
  try {
    c.name = std::string(o.at("name").as_string());
    c.max_concurrent = static_cast<unsigned>(o.at("max_concurrent").to_number<std::int64_t>());
    c.calls_per_second = o.at("calls_per_second").to_number<double>();
    c.machine_detection = o.at("machine_detection").as_bool();
    const auto& r = o.at("retry").as_object();
    c.retry = {static_cast<unsigned>(r.at("busy").to_number<std::int64_t>()),
               static_cast<unsigned>(r.at("no_answer").to_number<std::int64_t>()),
               static_cast<unsigned>(r.at("failed").to_number<std::int64_t>()),
               std::chrono::seconds(r.at("backoff_s").to_number<std::int64_t>())};
    if (const auto* w = o.if_contains("window")) {
      c.window_hours = std::string(w->at("hours").as_string());
      c.window_timezone = std::string(w->at("timezone").as_string());
      auto hours = opening_hours::parse(c.window_hours);
      if (!hours) return util::fail("campaign settings: window: " + hours.error().message);
      c.window = *hours;
    }
  } catch (const std::exception& e) {  // written by settings_json only: a store edited by hand
    return util::fail(std::string("campaign settings: ") + e.what());
  }
  if (c.max_concurrent == 0 || !(c.calls_per_second > 0)) return util::fail("campaign settings: pace out of range");
  return c;
}

}  // namespace voicebridge::server
