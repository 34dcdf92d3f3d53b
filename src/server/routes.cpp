#include "server/routes.hpp"

#include <date/tz.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "net/address.hpp"
#include "voicebridge/twilio/twiml.hpp"

namespace voicebridge::server {
using app::agent_mode;
using app::config;
using app::env_lookup;

namespace {

constexpr std::array<std::string_view, 7> day_names{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

std::optional<unsigned> day_of(std::string_view name) {
  for (unsigned i = 0; i < day_names.size(); ++i)
    if (name == day_names[i]) return i;
  return std::nullopt;
}

// "08:00" -> 480; "24:00" is the end of the day.
std::optional<unsigned> minute_of(std::string_view hhmm) {
  unsigned h = 0, m = 0;
  if (hhmm.size() != 5 || hhmm[2] != ':') return std::nullopt;
  if (std::from_chars(hhmm.data(), hhmm.data() + 2, h).ptr != hhmm.data() + 2) return std::nullopt;
  if (std::from_chars(hhmm.data() + 3, hhmm.data() + 5, m).ptr != hhmm.data() + 5) return std::nullopt;
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

util::result<opening_hours> opening_hours::parse(std::string_view text) {
  opening_hours h;
  h.always_ = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const auto item = trim(text.substr(start, comma - start));
    start = comma + 1;
    const auto space = item.find(' ');
    if (space == std::string_view::npos) return util::fail("hours: expected 'Mon-Fri 08:00-18:00', got '" + std::string(item) + "'");
    const auto days = item.substr(0, space), times = trim(item.substr(space + 1));
    const auto dash = days.find('-');
    const auto first = day_of(days.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : day_of(days.substr(dash + 1));
    if (!first || !last) return util::fail("hours: unknown day in '" + std::string(days) + "' (Mon, Tue, ... Sun)");
    const auto from = times.size() == 11 && times[5] == '-' ? minute_of(times.substr(0, 5)) : std::nullopt;
    const auto to = times.size() == 11 && times[5] == '-' ? minute_of(times.substr(6, 5)) : std::nullopt;
    if (!from || !to || *from >= *to) return util::fail("hours: expected HH:MM-HH:MM, earlier first, got '" + std::string(times) + "'");
    for (unsigned d = *first;; d = (d + 1) % 7) {  // Fri-Mon wraps over the weekend
      h.open_[d].emplace_back(*from, *to);
      if (d == *last) break;
    }
    if (comma == text.size()) break;
  }
  return h;
}

bool opening_hours::open_at(unsigned weekday, unsigned minute) const {
  if (always_) return true;
  const auto& ranges = open_.at(weekday % 7);
  return std::any_of(ranges.begin(), ranges.end(), [&](const auto& r) { return minute >= r.first && minute < r.second; });
}

namespace {

// One [[route]] table into `r`; the reason it is wrong otherwise.
std::optional<std::string> read_route(const toml::table& t, route& r, const env_lookup& env) {
  const auto text = [](const toml::node& n) -> std::optional<std::string> { return n.value<std::string>(); };
  for (auto&& [key_node, value] : t) {
    const std::string key(key_node.str());
    const auto line = " (line " + std::to_string(value.source().begin.line) + ")";
    const auto wrong = [&](std::string_view expected) { return key + ": expected " + std::string(expected) + line; };
    auto& s = r.settings;
    if (key == "name") {
      if (!text(value) || !valid_name(*text(value))) return wrong("letters, digits, '-' and '_'");
      r.name = *text(value);
    } else if (key == "numbers") {
      const auto* list = value.as_array();
      if (!list || list->empty()) return wrong("a list of E.164 numbers or \"*\"");
      for (const auto& n : *list) {
        const auto number = text(n);
        if (number == "*") r.catch_all = true;
        else if (number && twilio::is_e164(*number)) r.numbers.push_back(*number);
        else return wrong("E.164 numbers (+15551234567) or \"*\"");
      }
    } else if (key == "agent_mode") {
      const auto v = text(value);
      if (v == "local") s.agent_mode_setting = agent_mode::local;
      else if (v == "elevenlabs-agent") s.agent_mode_setting = agent_mode::elevenlabs_agent;
      else if (v == "pipeline") s.agent_mode_setting = agent_mode::pipeline;
      else return wrong("local, elevenlabs-agent or pipeline");
    } else if (key == "local_agent") {
      const auto v = text(value);
      if (v == "echo") s.local_agent = app::local_agent_kind::echo;
      else if (v == "voicemail") s.local_agent = app::local_agent_kind::voicemail;
      else return wrong("echo or voicemail");
    } else if (key == "elevenlabs_base_url" || key == "llm_base_url") {
      const auto v = text(value);
      const auto address = v ? net::parse_service_url(*v) : std::nullopt;
      if (!address || (address->scheme != "http" && address->scheme != "https"))
        return wrong("an https:// URL (http:// for a local stand-in)");
      (key == "elevenlabs_base_url" ? s.elevenlabs_base_url : s.llm_base_url) = *v;
    } else if (key == "api_key_env" || key == "llm_api_key_env" || key == "webhook_secret_env") {
      const auto name = text(value);
      if (!name || name->empty()) return wrong("the name of an environment variable");
      const auto secret = env(*name);
      if (!secret || secret->empty()) return key + ": the environment variable " + *name + " is not set" + line;
      if (key == "webhook_secret_env" && secret->size() < 16)
        return key + ": the secret in " + *name + " must be at least 16 characters" + line;
      (key == "api_key_env" ? s.elevenlabs_api_key : key == "llm_api_key_env" ? s.llm_api_key : s.webhook_secret) = *secret;
    } else if (key == "precall_webhook_url" || key == "postcall_webhook_url") {
      if (!text(value) || !app::is_webhook_url(*text(value))) return wrong("an https:// URL (http:// for a local receiver)");
      (key == "precall_webhook_url" ? s.precall_webhook_url : s.postcall_webhook_url) = *text(value);
    } else if (key == "config_override" || key == "dynamic_variables") {
      const auto* table = value.as_table();
      if (!table) return wrong("an inline table");
      if (key == "config_override") {
        std::ostringstream json;
        json << toml::json_formatter{*table};
        s.agent_config_override = json.str();
        continue;
      }
      for (auto&& [name, v] : *table) {
        if (v.is_string()) r.dynamic_variables.emplace_back(std::string(name.str()), *v.value<std::string>());
        else if (v.is_integer()) r.dynamic_variables.emplace_back(std::string(name.str()), std::to_string(*v.value<std::int64_t>()));
        else if (v.is_boolean()) r.dynamic_variables.emplace_back(std::string(name.str()), *v.value<bool>() ? "true" : "false");
        else return wrong("strings, integers or booleans as variable values");
      }
    } else if (key == "record_calls" || key == "amd_hold_greeting") {
      if (!value.is_boolean()) return wrong("true or false");
      (key == "record_calls" ? s.record_calls : s.amd_hold_greeting) = *value.value<bool>();
    } else if (key == "max_calls" || key == "voicemail_max_seconds" || key == "voicemail_silence_ms" ||
               key == "amd_timeout_ms" || key == "ring_timeout_s") {
      const auto n = value.value<std::int64_t>();
      if (!value.is_integer() || !n || *n < 0 || ((key == "max_calls" || key == "amd_timeout_ms") && *n == 0))
        return wrong("a positive integer");
      if (key == "max_calls") r.max_calls = static_cast<std::size_t>(*n);
      else if (key == "voicemail_max_seconds") s.voicemail_max_length = std::chrono::seconds(*n);
      else if (key == "amd_timeout_ms") s.amd_timeout = std::chrono::milliseconds(*n);
      else if (key == "ring_timeout_s" && (*n < 5 || *n > 600)) return wrong("seconds from 5 to 600 (Twilio's Timeout)");
      else if (key == "ring_timeout_s") s.ring_timeout = std::chrono::seconds(*n);
      else s.voicemail_silence = std::chrono::milliseconds(*n);
    } else if (key == "dtmf_mode") {
      const auto v = text(value);
      if (v != "contextual_update" && v != "user_message") return wrong("contextual_update or user_message");
      s.dtmf_as_user_message = v == "user_message";
    } else if (key == "operator_key" || key == "opt_out_key") {
      const auto v = text(value);
      if (!v || v->size() != 1 || std::string_view("0123456789*#").find((*v)[0]) == std::string_view::npos)
        return wrong("one keypad key (0-9, * or #)");
      if (key == "operator_key") s.operator_key = (*v)[0];
      else s.opt_out_key = (*v)[0];
    } else if (key == "caller_id") {
      if (!text(value) || !twilio::is_e164(*text(value))) return wrong("an E.164 number");
      r.caller_id = *text(value);
    } else if (key == "operator_number") {
      if (!text(value) || !twilio::is_e164(*text(value))) return wrong("an E.164 number");
      s.operator_number = *text(value);
    } else if (key == "hours") {
      if (!text(value)) return wrong("a string such as \"Mon-Fri 08:00-18:00, Sat 09:00-12:00\"");
      auto hours = opening_hours::parse(*text(value));
      if (!hours) return hours.error().message + line;
      r.hours = *hours;
      r.hours_text = std::string(*text(value));
    } else if (key == "fallback_prompt_wav" || key == "voicemail_message_wav" || key == "system_prompt_file") {
      if (!text(value) || text(value)->empty()) return wrong("a file path");
      if (key == "fallback_prompt_wav") s.fallback_prompt_wav = *text(value);
      else if (key == "voicemail_message_wav") s.voicemail_message_wav = *text(value);
      else r.system_prompt_file = *text(value);
    } else {
      // The plain strings, each the route's value of one environment setting.
      std::string* target = key == "agent_id"              ? &s.elevenlabs_agent_id
                            : key == "voice_id"            ? &s.voice_id
                            : key == "tts_model"           ? &s.tts_model
                            : key == "llm_model"           ? &s.llm_model
                            : key == "greeting"            ? &s.pipeline_greeting
                            : key == "fallback_text"       ? &s.fallback_text
                            : key == "fallback_language"   ? &s.fallback_language
                            : key == "voicemail_message_text" ? &s.voicemail_message_text
                            : key == "timezone"            ? &r.timezone
                            : key == "after_hours"         ? &r.after_hours
                                                           : nullptr;
      if (!target) return "unknown key " + key + line;
      if (!text(value)) return wrong("a string");
      *target = *text(value);
    }
  }
  return std::nullopt;
}

}  // namespace

route_table route_table::single(const config& base) {
  route_table table;
  route r;
  r.name = "default";
  r.catch_all = true;
  r.settings = base;
  table.routes_.push_back(std::move(r));
  return table;
}

util::result<route_table> route_table::parse(std::string_view toml_text, const config& base, const env_lookup& env) {
  toml::table document;
  try {
    document = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return util::fail("ROUTES_FILE: line " + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  for (auto&& [key, value] : document)
    if (key.str() != "route") return util::fail("ROUTES_FILE: unknown top-level key " + std::string(key.str()) + " (only [[route]] tables)");
  if (document.contains("route") && !document["route"].is_array_of_tables())
    return util::fail("ROUTES_FILE: route entries must be [[route]] tables");
  const auto* list = document["route"].as_array();
  if (!list || list->empty()) return util::fail("ROUTES_FILE: no [[route]] tables");
  route_table table;
  std::set<std::string> names, numbers;
  bool have_catch_all = false;
  for (const auto& node : *list) {
    const auto* t = node.as_table();
    if (!t) return util::fail("ROUTES_FILE: route entries must be [[route]] tables");
    route r;
    r.settings = base;
    // Named in errors by its name from the start (a table's keys come in key order, not the file's).
    const auto index = std::to_string(table.routes_.size() + 1);
    if (const auto name = (*t)["name"].value<std::string>(); name && valid_name(*name)) r.name = *name;
    const std::string where = "ROUTES_FILE: route " + (r.name.empty() ? "#" + index : r.name) + ": ";
    if (auto wrong = read_route(*t, r, env)) return util::fail(where + *wrong);
    if (r.name.empty()) return util::fail(where + "name: required");
    if (!names.insert(r.name).second) return util::fail(where + "name: used by another route");
    if (r.numbers.empty() && !r.catch_all) return util::fail(where + "numbers: required");
    for (const auto& n : r.numbers)
      if (!numbers.insert(n).second) return util::fail(where + "numbers: " + n + " is already another route's");
    if (r.catch_all && std::exchange(have_catch_all, true)) return util::fail(where + "numbers: only one route may take \"*\"");
    if (r.max_calls && *r.max_calls > base.max_calls) return util::fail(where + "max_calls: above MAX_CALLS");
    if (!r.hours.is_always()) {
      if (r.timezone.empty()) return util::fail(where + "timezone: required with hours");
      try {
        (void)date::locate_zone(r.timezone);
      } catch (const std::exception&) {
        return util::fail(where + "timezone: " + r.timezone + " is not in the system's tz database");
      }
      if (r.after_hours.empty()) r.after_hours = "voicemail";
    }
    if ((!r.settings.precall_webhook_url.empty() || !r.settings.postcall_webhook_url.empty()) && r.settings.webhook_secret.empty())
      return util::fail(where + "webhook_secret_env: required with a webhook URL (or set WEBHOOK_SECRET)");
    if (r.settings.mode() == agent_mode::elevenlabs_agent && r.settings.elevenlabs_agent_id.empty())
      return util::fail(where + "agent_id: required with agent_mode elevenlabs-agent");
    if (r.settings.mode() == agent_mode::pipeline) {
      for (const auto& [name, value] : {std::pair{"voice_id", &r.settings.voice_id}, std::pair{"tts_model", &r.settings.tts_model},
                                        std::pair{"llm_base_url", &r.settings.llm_base_url}, std::pair{"llm_model", &r.settings.llm_model}})
        if (value->empty()) return util::fail(where + name + ": required with agent_mode pipeline");
    }
    table.routes_.push_back(std::move(r));
  }
  for (const auto& r : table.routes_) {
    if (r.after_hours.empty() || r.after_hours == "voicemail") continue;
    if (r.after_hours == r.name || !table.named(r.after_hours))
      return util::fail("ROUTES_FILE: route " + r.name + ": after_hours: expected voicemail or another route's name");
  }
  return table;
}

const route* route_table::for_number(std::string_view to) const {
  for (const auto& r : routes_)
    if (std::find(r.numbers.begin(), r.numbers.end(), to) != r.numbers.end()) return &r;
  return catch_all();
}

const route* route_table::catch_all() const {
  for (const auto& r : routes_)
    if (r.catch_all) return &r;
  return nullptr;
}

const route* route_table::named(std::string_view name) const {
  for (const auto& r : routes_)
    if (r.name == name) return &r;
  return nullptr;
}

util::result<bool> is_open(const route& r, std::chrono::system_clock::time_point now) {
  return is_open(r.hours, r.timezone, now);
}

util::result<bool> is_open(const opening_hours& hours, const std::string& timezone, std::chrono::system_clock::time_point now) {
  if (hours.is_always()) return true;
  try {
    const auto local = date::make_zoned(date::locate_zone(timezone), now).get_local_time();
    const auto day = date::floor<date::days>(local);
    const auto minute = std::chrono::duration_cast<std::chrono::minutes>(local - day).count();
    return hours.open_at(date::weekday(day).c_encoding(), static_cast<unsigned>(minute));
  } catch (const std::exception& e) {
    return util::fail("timezone " + timezone + ": " + e.what());
  }
}

util::result<std::optional<std::chrono::system_clock::time_point>> next_opening(
    const opening_hours& hours, const std::string& timezone, std::chrono::system_clock::time_point now) {
  using result_type = std::optional<std::chrono::system_clock::time_point>;
  auto open = is_open(hours, timezone, now);
  if (!open) return open.error();
  if (*open) return result_type(now);
  // Minute by minute from the next whole minute: a week is 10080 looks, and time zones' jumps need no care.
  auto at = std::chrono::ceil<std::chrono::minutes>(now);
  for (int i = 0; i <= 7 * 24 * 60; ++i, at += std::chrono::minutes(1)) {
    auto open_then = is_open(hours, timezone, at);
    if (!open_then) return open_then.error();
    if (*open_then) return result_type(at);
  }
  return result_type();
}

bool known_timezone(const std::string& timezone) {
  try {
    (void)date::locate_zone(timezone);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace voicebridge::server
