#include "server/console/operations_pages.hpp"

#include <boost/json/serialize.hpp>

#include "server/console/html.hpp"

namespace voicebridge::server::console {
namespace json = boost::json;
namespace {

std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return "";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  return "";
}

std::int64_t number_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

std::string th(std::string_view label) { return "<th scope=\"col\">" + std::string(label) + "</th>"; }

}  // namespace

std::string live_page(const std::vector<live_row>& calls, std::string_view csrf, std::int64_t now_ms) {
  // Drawn here in full (a page that works without its script); the script keeps it current from
  // /console/live/events and makes the durations tick.
  std::string body =
      "<p class=\"status\" aria-live=\"polite\" data-live-status>Showing the calls in progress at " + time_tag(now_ms) +
      ". Reload for the current ones, or let the page's script keep it up to date.</p>"
      "<div class=\"table-wrap\"><table class=\"live\" data-live-table data-csrf=\"" + escape(csrf) + "\"><thead><tr>" +
      th("Call") + th("From") + th("To") + th("Route") + th("Duration") + th("Speaking") + th("Actions") + "</tr></thead><tbody>";
  for (const auto& c : calls) {
    body += "<tr data-call=\"" + escape(c.call_sid) + "\"><td><code>" + escape(c.call_sid) + "</code><br>" + escape(c.direction) +
            "</td><td>" + escape(c.from) + "</td><td>" + escape(c.to) + "</td><td>" + escape(c.route) +
            "</td><td data-started=\"" + std::to_string(c.started_ms) + "\">" + duration_text(now_ms - c.started_ms) +
            "</td><td class=\"speaking-" + escape(c.speaking) + "\">" + escape(c.speaking) + "</td><td class=\"actions\">" +
            action_button("/console/live/" + c.call_sid + "/end", "End call", csrf, {}, "end") +
            "<form method=\"post\" action=\"/console/live/" + escape(c.call_sid) + "/transfer\" class=\"transfer\">" +
            csrf_field(csrf) + "<label>Transfer to <input type=\"tel\" name=\"number\" required placeholder=\"+15551230000\"></label>"
            "<button type=\"submit\">Transfer</button></form></td></tr>";
  }
  body += "</tbody></table></div><p class=\"empty\" data-live-empty" + std::string(calls.empty() ? "" : " hidden") +
          ">No call is in progress.</p>";
  return layout("Live calls", "live", body, csrf);
}

std::string live_event(const std::vector<live_row>& calls, std::int64_t now_ms) {
  json::array list;
  for (const auto& c : calls)
    list.push_back(json::object{{"call_sid", c.call_sid}, {"from", c.from},         {"to", c.to},
                                {"route", c.route},       {"direction", c.direction}, {"speaking", c.speaking},
                                {"started_ms", c.started_ms}});
  // One `data:` line: serialized JSON has no newline in it.
  return "event: calls\ndata: " + json::serialize(json::object{{"now_ms", now_ms}, {"calls", std::move(list)}}) + "\n\n";
}

std::string campaigns_page(const std::vector<campaign_row>& campaigns, std::string_view csrf) {
  if (campaigns.empty()) return layout("Campaigns", "campaigns", "<p class=\"empty\">No campaign yet (POST /api/campaigns).</p>", csrf);
  std::string body = "<div class=\"table-wrap\"><table class=\"campaigns\"><thead><tr>" + th("Campaign") + th("Created") +
                     th("State") + th("Progress") + th("Outcomes") + th("Actions") + "</tr></thead><tbody>";
  for (const auto& c : campaigns) {
    const auto& o = c.shown;
    const std::string id = text_of(o, "id"), state = text_of(o, "state");
    const auto* p = o.if_contains("progress");
    const json::object progress = p && p->is_object() ? p->as_object() : json::object();
    const auto total = number_of(progress, "total"), done = number_of(progress, "done");
    std::string outcomes;
    if (const auto* out = progress.if_contains("outcomes"); out && out->is_object())
      for (const auto& [name, n] : out->as_object())
        outcomes += "<li>" + escape(name) + ": " + (n.is_int64() ? std::to_string(n.as_int64()) : "?") + "</li>";
    std::string actions;
    if (state == "running") actions += action_button("/console/campaigns/" + id + "/pause", "Pause", csrf);
    if (state == "paused") actions += action_button("/console/campaigns/" + id + "/resume", "Resume", csrf);
    if (state == "running" || state == "paused")
      actions += action_button("/console/campaigns/" + id + "/cancel", "Cancel", csrf, {}, "danger");
    body += "<tr data-campaign=\"" + escape(id) + "\"><td><strong>" + escape(text_of(o, "name")) + "</strong><br>route " +
            escape(text_of(o, "route")) + "<br><code>" + escape(id) + "</code></td><td>" + time_tag(c.created_at_ms) +
            "</td><td class=\"state\">" + escape(state) + "</td><td><progress max=\"" + std::to_string(std::max<std::int64_t>(total, 1)) +
            "\" value=\"" + std::to_string(done) + "\"></progress> " + std::to_string(done) + " of " + std::to_string(total) +
            " done<br>" + std::to_string(number_of(progress, "queued")) + " queued, " +
            std::to_string(number_of(progress, "dialling")) + " dialling</td><td><ul class=\"outcomes\">" + outcomes +
            "</ul></td><td class=\"actions\">" + actions + "</td></tr>";
  }
  return layout("Campaigns", "campaigns", body + "</tbody></table></div>", csrf);
}

std::string routes_page(const std::vector<route_row>& routes, std::string_view csrf) {
  std::string body = "<div class=\"table-wrap\"><table class=\"routes\"><thead><tr>" + th("Route") + th("Numbers") + th("Agent") +
                     th("Hours") + th("Now") + th("Calls") + "</tr></thead><tbody>";
  for (const auto& row : routes) {
    const auto& r = *row.r;
    std::string numbers;
    for (const auto& n : r.numbers) numbers += escape(n) + "<br>";
    if (r.catch_all) numbers += "every other number";
    const auto& s = r.settings;
    const std::string agent = s.mode() == app::agent_mode::elevenlabs_agent ? "ElevenLabs agent " + s.elevenlabs_agent_id
                              : s.mode() == app::agent_mode::pipeline        ? "STT → LLM → TTS pipeline"
                                                                             : "local agent";
    const std::string hours = r.hours_text.empty() ? "always open"
                                                   : r.hours_text + " (" + r.timezone + ")" +
                                                         (r.after_hours.empty() ? "" : "; after hours: " + r.after_hours);
    body += "<tr><td><a href=\"/console/calls?route=" + escape(r.name) + "\">" + escape(r.name) + "</a></td><td>" + numbers +
            "</td><td>" + escape(agent) + "</td><td>" + escape(hours) + "</td><td class=\"hours-" + escape(row.open_now) + "\">" +
            escape(row.open_now) + "</td><td>" + std::to_string(row.active_calls) +
            (r.max_calls ? " of " + std::to_string(*r.max_calls) : std::string()) + "</td></tr>";
  }
  return layout("Routes", "routes", body + "</tbody></table></div>", csrf);
}

std::string webhooks_page(const json::array& failed, std::string_view csrf) {
  if (failed.empty()) return layout("Failed webhooks", "webhooks", "<p class=\"empty\">No webhook has failed.</p>", csrf);
  std::string body = "<div class=\"table-wrap\"><table class=\"webhooks\"><thead><tr>" + th("Delivery") + th("Call") +
                     th("Attempts") + th("Last error") + th("Failed") + th("Actions") + "</tr></thead><tbody>";
  for (const auto& item : failed) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    const std::string id = text_of(o, "id"), call = text_of(o, "call_sid");
    body += "<tr data-delivery=\"" + escape(id) + "\"><td><code>" + escape(id) + "</code><br>" + escape(text_of(o, "kind")) +
            "</td><td><a href=\"/console/calls/" + escape(call) + "\">" + escape(call) + "</a></td><td>" +
            std::to_string(number_of(o, "attempts")) + "</td><td>" + escape(text_of(o, "last_error")) + "</td><td>" +
            time_tag(number_of(o, "failed_at_ms")) + "</td><td>" +
            action_button("/console/webhooks/" + id + "/retry", "Retry", csrf) + "</td></tr>";
  }
  return layout("Failed webhooks", "webhooks", body + "</tbody></table></div>", csrf);
}

std::string health_page(const health_facts& h, std::string_view csrf) {
  std::string body = "<dl class=\"facts\"><dt>State</dt><dd class=\"" + std::string(h.draining ? "draining" : "serving") + "\">" +
                     (h.draining ? "draining: new calls go to other instances" : "serving") + "</dd>";
  if (!h.instance.empty()) body += "<dt>Instance</dt><dd>" + escape(h.instance) + "</dd>";
  body += "<dt>Up since</dt><dd>" + time_tag(h.up_since_ms) + "</dd><dt>Calls in progress</dt><dd>" +
          std::to_string(h.active_calls) + "</dd><dt>Streams waiting for their start</dt><dd>" +
          std::to_string(h.pending_streams) + "</dd>";
  for (const auto& [label, value] : h.figures) body += "<dt>" + escape(label) + "</dt><dd>" + escape(value) + "</dd>";
  return layout("Health", "health", body + "</dl>", csrf);
}

}  // namespace voicebridge::server::console
