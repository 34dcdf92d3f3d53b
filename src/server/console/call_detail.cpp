// One call's page: what happened, in order, and what was said, with its audio.
#include <algorithm>
#include <vector>

#include "server/console/call_pages.hpp"
#include "server/console/html.hpp"

namespace voicebridge::server::console {
namespace {

struct moment {
  std::int64_t at_ms;  // since the epoch; 0 when unknown (listed last)
  std::string what;    // markup
};

std::string offset_text(std::int64_t at_ms, std::int64_t started_ms) {
  if (at_ms <= 0 || started_ms <= 0) return "";
  return "+" + duration_text(at_ms - started_ms);
}

void fact(std::string& out, std::string_view label, std::string value_markup) {
  if (value_markup.empty()) return;
  out += "<dt>" + std::string(label) + "</dt><dd>" + value_markup + "</dd>";
}

std::string facts(const records::call_record& r) {
  std::string out = "<dl class=\"facts\">";
  fact(out, "From", escape(r.from));
  fact(out, "To", escape(r.to));
  fact(out, "Direction", escape(r.direction));
  fact(out, "Route", escape(r.route));
  fact(out, "Outcome", escape(r.outcome.empty() ? "in progress" : r.outcome));
  fact(out, "How it ended", escape(r.end_reason));
  fact(out, "Started", time_tag(records::epoch_ms(r.started)));
  fact(out, "Ended", time_tag(records::epoch_ms(r.ended)));
  if (r.ended > r.started && r.started.time_since_epoch().count() > 0)
    fact(out, "Duration", duration_text(records::epoch_ms(r.ended) - records::epoch_ms(r.started)));
  if (r.first_agent_audio_ms) fact(out, "First agent audio", std::to_string(*r.first_agent_audio_ms) + " ms after the stream began");
  fact(out, "Answered by (AMD)", escape(r.answered_by));
  fact(out, "Transferred to", escape(r.transferred_to));
  fact(out, "Keys pressed (DTMF)", escape(r.dtmf));
  if (r.opted_out) fact(out, "Opted out", "yes: the number is off campaigns");
  fact(out, "Barge-ins", std::to_string(r.barge_ins));
  if (r.reconnects > 0) fact(out, "Fresh streams", std::to_string(r.reconnects));
  std::string codes;
  for (int c : r.agent_close_codes) codes += (codes.empty() ? "" : ", ") + std::to_string(c);
  fact(out, "Agent close codes", codes);
  fact(out, "Twilio status", escape(r.twilio_status) + (r.twilio_duration_s ? " (" + std::to_string(*r.twilio_duration_s) + " s)" : ""));
  fact(out, "Call SID", "<code>" + escape(r.call_sid) + "</code>");
  fact(out, "Conversation", escape(r.conversation_id));
  return out + "</dl>";
}

std::string timeline(const records::call_record& r) {
  const auto started = records::epoch_ms(r.started);
  std::vector<moment> moments;
  if (started > 0) moments.push_back({started, "Stream started (" + escape(r.direction) + ", route " + escape(r.route) + ")"});
  if (r.first_agent_audio_ms && started > 0) moments.push_back({started + *r.first_agent_audio_ms, "First agent audio"});
  for (const auto& line : r.transcript)
    moments.push_back({line.at_ms, (line.role == "agent" ? "Agent spoke" : "Caller spoke")});
  if (!r.answered_by.empty()) moments.push_back({0, "Answering-machine detection: " + escape(r.answered_by)});
  if (r.barge_ins > 0) moments.push_back({0, "The caller interrupted the agent " + std::to_string(r.barge_ins) + " time(s)"});
  if (!r.dtmf.empty()) moments.push_back({0, "Keys pressed: " + escape(r.dtmf)});
  if (!r.transferred_to.empty()) moments.push_back({0, "Transferred to " + escape(r.transferred_to)});
  const auto ended = records::epoch_ms(r.ended);
  if (ended > 0) moments.push_back({ended, "Stream ended: " + escape(r.end_reason.empty() ? r.outcome : r.end_reason)});
  std::stable_sort(moments.begin(), moments.end(), [](const moment& a, const moment& b) {
    return (a.at_ms == 0 ? INT64_MAX : a.at_ms) < (b.at_ms == 0 ? INT64_MAX : b.at_ms);
  });
  std::string out = "<ol class=\"timeline\">";
  for (const auto& m : moments)
    out += "<li><span class=\"at\">" + offset_text(m.at_ms, started) + "</span> " + m.what + "</li>";
  return out + "</ol>";
}

std::string transcript(const records::call_record& r) {
  if (r.transcript.empty()) return "<p class=\"empty\">Nothing was transcribed.</p>";
  const auto started = records::epoch_ms(r.started);
  std::string out = "<ol class=\"transcript\">";
  for (const auto& line : r.transcript) {
    const bool agent = line.role == "agent";
    out += std::string("<li class=\"") + (agent ? "agent" : "caller") + "\"><span class=\"who\">" + (agent ? "Agent" : "Caller") +
           "</span> <span class=\"at\">" + offset_text(line.at_ms, started) + "</span><p>" + escape(line.text) + "</p></li>";
  }
  return out + "</ol>";
}

std::string player(const records::call_record& r, std::string_view kind, std::string_view label) {
  const std::string url = "/console/calls/" + escape(r.call_sid) + "/" + std::string(kind);
  return "<figure class=\"audio\"><figcaption>" + std::string(label) + "</figcaption><audio controls preload=\"metadata\" src=\"" +
         url + "\" data-kind=\"" + std::string(kind) + "\"></audio><a href=\"" + url + "\" download>Download WAV</a></figure>";
}

std::string variables_section(const call_variables& variables) {
  if (variables.empty()) return {};
  std::string out = "<section><h2>Variables</h2><dl class=\"facts variables\">";
  for (const auto& [name, value] : variables) {
    if (name == "campaign")
      out += "<dt>Campaign</dt><dd><a href=\"/console/campaigns\">" + escape(value) + "</a></dd>";
    else
      out += "<dt>" + escape(name) + "</dt><dd>" + escape(value) + "</dd>";
  }
  return out + "</dl></section>";
}

}  // namespace

std::string call_page(const records::call_record& r, call_audio_links audio, const call_variables& variables,
                      std::string_view csrf) {
  std::string body = "<p><a href=\"/console/calls\">← All calls</a></p>" + facts(r) + variables_section(variables);
  if (audio.recording || audio.voicemail) {
    body += "<section><h2>Audio</h2>";
    if (audio.recording) body += player(r, "recording", "Recording (caller left, agent right)");
    if (audio.voicemail) body += player(r, "voicemail", "Voicemail");
    body += "</section>";
  }
  body += "<section><h2>Timeline</h2>" + timeline(r) + "</section>";
  body += "<section><h2>Transcript</h2>" + transcript(r) + "</section>";
  return layout("Call from " + (r.from.empty() ? std::string("an unknown number") : r.from), "calls", body, csrf);
}

}  // namespace voicebridge::server::console
