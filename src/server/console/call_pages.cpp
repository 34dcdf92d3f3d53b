#include "server/console/call_pages.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>

#include "server/console/html.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/twiml.hpp"

namespace voicebridge::server::console {
namespace {

namespace outcome = records::outcome;
constexpr std::array<const char*, 14> outcomes{outcome::agent,         outcome::voicemail,      outcome::fallback,
                                               outcome::agent_failed,  outcome::rejected,       outcome::protocol_error,
                                               outcome::busy,          outcome::transferred,    outcome::no_answer,
                                               outcome::failed,        outcome::canceled,       outcome::voicemail_left,
                                               outcome::machine_hung_up, "cancelled"};

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// "2026-12-07" as the start of that day in ms since the epoch, UTC.
std::optional<std::int64_t> day_start_ms(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto y = whole_number(text.substr(0, 4)), m = whole_number(text.substr(5, 2)), d = whole_number(text.substr(8, 2));
  if (!y || !m || !d) return std::nullopt;
  const std::chrono::year_month_day day{std::chrono::year(static_cast<int>(*y)), std::chrono::month(static_cast<unsigned>(*m)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!day.ok()) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::sys_days(day).time_since_epoch()).count();
}

std::string option_list(const std::vector<std::string>& values, std::string_view chosen, std::string_view any_label) {
  std::string out = "<option value=\"\">" + escape(any_label) + "</option>";
  for (const auto& v : values)
    out += "<option value=\"" + escape(v) + "\"" + (v == chosen ? " selected" : "") + ">" + escape(v) + "</option>";
  return out;
}

std::string hidden(std::string_view name, std::string_view value) {
  return value.empty() ? std::string() : "<input type=\"hidden\" name=\"" + std::string(name) + "\" value=\"" + escape(value) + "\">";
}

std::string filter_form(const calls_listing& l, std::string_view csrf) {
  const auto& f = l.form;
  std::string html = "<form method=\"post\" action=\"/console/calls\" class=\"filters\" data-timezone-form>" + csrf_field(csrf) +
                     "<input type=\"hidden\" name=\"tz\" value=\"" + std::to_string(f.tz_offset_min) + "\">";
  html += "<label>Route <select name=\"route\">" + option_list(l.routes, f.route, "any") + "</select></label>";
  html += "<label>Outcome <select name=\"outcome\">" +
          option_list(std::vector<std::string>(outcomes.begin(), outcomes.end()), f.outcome, "any") + "</select></label>";
  html += "<label>Direction <select name=\"direction\">" + option_list({"inbound", "outbound"}, f.direction, "both") +
          "</select></label>";
  html += "<label>From <input type=\"date\" name=\"since\" value=\"" + escape(f.since) + "\"></label>";
  html += "<label>To <input type=\"date\" name=\"until\" value=\"" + escape(f.until) + "\"></label>";
  html += "<label>Number <input type=\"tel\" name=\"number\" placeholder=\"+15551230000\" value=\"" + escape(f.number) +
          "\"></label>";
  return html + "<button type=\"submit\">Filter</button> <a href=\"/console/calls\">Clear</a></form>\n";
}

std::string outcome_badge(std::string_view outcome) {
  return "<span class=\"badge outcome-" + escape(outcome) + "\">" + escape(outcome.empty() ? "in progress" : outcome) + "</span>";
}

}  // namespace

util::result<calls_form> read_calls_form(const twilio::form_params& fields, bool number_allowed) {
  calls_form f;
  const auto field = [&](std::string_view name) { return std::string(fields.get_or(name, "")); };
  f.route = field("route");
  f.outcome = field("outcome");
  f.direction = field("direction");
  f.since = field("since");
  f.until = field("until");
  f.after = field("after");
  f.number = number_allowed ? field("number") : std::string();
  if (!number_allowed && fields.get("number")) return util::fail("a number is filtered by the form, not in the address");
  if (const auto tz = fields.get("tz"); tz && !tz->empty()) {
    const auto minutes = whole_number(*tz);
    if (!minutes || *minutes < -1080 || *minutes > 1080) return util::fail("tz must be minutes from UTC (-1080 to 1080)");
    f.tz_offset_min = static_cast<int>(*minutes);
  }
  auto& q = f.filter;
  q.limit = calls_per_page + 1;  // one more says there is a next page
  if (f.route.size() > 64 || f.outcome.size() > 32) return util::fail("route or outcome too long");
  if (!f.route.empty()) q.route = f.route;
  if (!f.outcome.empty()) q.outcome = f.outcome;
  if (!f.direction.empty()) {
    if (f.direction != "inbound" && f.direction != "outbound") return util::fail("direction is inbound or outbound");
    q.direction = f.direction;
  }
  if (!f.number.empty()) {
    if (!twilio::is_e164(f.number)) return util::fail("the number must be E.164, as +15551230000");
    q.number = f.number;
  }
  const std::int64_t offset_ms = static_cast<std::int64_t>(f.tz_offset_min) * 60000;
  if (!f.since.empty()) {
    const auto start = day_start_ms(f.since);
    if (!start) return util::fail("from must be a date, as 2026-12-07");
    q.since_ms = *start + offset_ms;
  }
  if (!f.until.empty()) {
    const auto start = day_start_ms(f.until);
    if (!start) return util::fail("to must be a date, as 2026-12-07");
    q.until_ms = *start + 86'400'000 + offset_ms;  // the whole of that day
  }
  if (!f.after.empty()) {
    // "<started ms>.<call SID>": the last call of the page before.
    const auto dot = f.after.find('.');
    const auto started = dot == std::string::npos ? std::nullopt : whole_number(std::string_view(f.after).substr(0, dot));
    if (!started || !twilio::is_valid_sid(f.after.substr(dot + 1))) return util::fail("after is not a page's cursor");
    q.after = records::call_cursor{*started, f.after.substr(dot + 1)};
  }
  return f;
}

std::string calls_page(const calls_listing& l, std::string_view csrf) {
  std::string body = filter_form(l, csrf);
  const bool more = l.calls.size() > calls_per_page;
  const auto shown = std::min(l.calls.size(), calls_per_page);
  if (shown == 0) {
    body += "<p class=\"empty\">No calls match.</p>";
    return layout("Calls", "calls", body, csrf);
  }
  body += "<div class=\"table-wrap\"><table class=\"calls\"><thead><tr><th scope=\"col\">Started</th><th scope=\"col\">From</th>"
          "<th scope=\"col\">To</th><th scope=\"col\">Direction</th><th scope=\"col\">Route</th><th scope=\"col\">Outcome</th>"
          "<th scope=\"col\">Duration</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& r = l.calls[i];
    const auto started = records::epoch_ms(r.started), ended = records::epoch_ms(r.ended);
    body += "<tr><td><a href=\"/console/calls/" + escape(r.call_sid) + "\">" + time_tag(started) + "</a></td><td>" +
            escape(r.from) + "</td><td>" + escape(r.to) + "</td><td>" + escape(r.direction) + "</td><td>" + escape(r.route) +
            "</td><td>" + outcome_badge(r.outcome) + "</td><td>" +
            (!r.outcome.empty() && started > 0 && ended >= started ? duration_text(ended - started)
             : r.twilio_duration_s          ? duration_text(*r.twilio_duration_s * 1000)
                                            : std::string("—")) +
            "</td></tr>\n";
  }
  body += "</tbody></table></div>";
  if (more) {
    // The next page: a form, so that a number filter travels in the body and never in an address.
    const auto& last = l.calls[shown - 1];
    const auto& f = l.form;
    body += "<form method=\"post\" action=\"/console/calls\" class=\"pager\">" + csrf_field(csrf) + hidden("route", f.route) +
            hidden("outcome", f.outcome) + hidden("direction", f.direction) + hidden("since", f.since) +
            hidden("until", f.until) + hidden("number", f.number) + hidden("tz", std::to_string(f.tz_offset_min)) +
            hidden("after", std::to_string(records::epoch_ms(last.started)) + "." + last.call_sid) +
            "<button type=\"submit\">Older calls</button></form>";
  }
  return layout("Calls", "calls", body, csrf);
}

}  // namespace voicebridge::server::console
