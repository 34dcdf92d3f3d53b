#include "records/call_record.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "util/json_fields.hpp"

namespace voicebridge::records {
namespace json = boost::json;
namespace {

std::string bounded(std::string text) {
  if (text.size() > call_record::max_line_bytes) text.resize(call_record::max_line_bytes);
  return text;
}

std::chrono::system_clock::time_point from_ms(std::int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

}  // namespace

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void call_record::add_user_text(std::string text, std::int64_t event_id, std::int64_t at_ms) {
  if (transcript.size() < max_transcript_lines) transcript.push_back({"user", bounded(std::move(text)), event_id, at_ms});
}

void call_record::add_agent_text(std::string text, std::int64_t event_id, std::int64_t at_ms) {
  if (transcript.size() < max_transcript_lines) transcript.push_back({"agent", bounded(std::move(text)), event_id, at_ms});
}

void call_record::correct_agent_text(std::int64_t event_id, std::string corrected) {
  for (auto it = transcript.rbegin(); it != transcript.rend(); ++it) {
    if (it->role == "agent" && it->event_id == event_id) {
      it->text = bounded(std::move(corrected));
      return;
    }
  }
}

std::string to_json(const call_record& r) {
  json::array transcript;
  for (const auto& line : r.transcript)
    transcript.push_back(
        json::object{{"role", line.role}, {"text", line.text}, {"event_id", line.event_id}, {"at_ms", line.at_ms}});
  json::array codes;
  for (int code : r.agent_close_codes) codes.push_back(code);
  json::object o{{"call_sid", r.call_sid},
                 {"stream_sid", r.stream_sid},
                 {"conversation_id", r.conversation_id},
                 {"from", r.from},
                 {"to", r.to},
                 {"route", r.route},
                 {"direction", r.direction},
                 {"answered_by", r.answered_by},
                 {"started_at_ms", epoch_ms(r.started)},
                 {"ended_at_ms", epoch_ms(r.ended)},
                 {"outcome", r.outcome},
                 {"end_reason", r.end_reason},
                 {"barge_ins", r.barge_ins},
                 {"reconnects", r.reconnects},
                 {"handed_off", r.handed_off},
                 {"agent_close_codes", std::move(codes)},
                 {"dtmf", r.dtmf},
                 {"opted_out", r.opted_out},
                 {"transferred_to", r.transferred_to},
                 {"transcript", std::move(transcript)},
                 {"recording_path", r.recording_path},
                 {"voicemail_path", r.voicemail_path},
                 {"twilio_status", r.twilio_status}};
  o["first_agent_audio_ms"] = r.first_agent_audio_ms ? json::value(*r.first_agent_audio_ms) : json::value(nullptr);
  o["twilio_duration_s"] = r.twilio_duration_s ? json::value(*r.twilio_duration_s) : json::value(nullptr);
  return json::serialize(o);
}

util::result<call_record> record_from_json(std::string_view text) {
  VB_TRY(value, util::parse_json_object(text));
  const auto& o = value.get_object();
  call_record r;
  VB_TRY(call_sid, util::string_field(o, "call_sid", true));
  r.call_sid = std::move(call_sid);
  for (auto [key, field] : {std::pair{"stream_sid", &r.stream_sid}, {"conversation_id", &r.conversation_id},
                            {"from", &r.from}, {"to", &r.to}, {"route", &r.route}, {"direction", &r.direction},
                            {"answered_by", &r.answered_by}, {"outcome", &r.outcome}, {"end_reason", &r.end_reason},
                            {"dtmf", &r.dtmf}, {"transferred_to", &r.transferred_to}, {"recording_path", &r.recording_path},
                            {"voicemail_path", &r.voicemail_path}, {"twilio_status", &r.twilio_status}}) {
    VB_TRY(s, util::string_field(o, key, false));
    *field = std::move(s);
  }
  if (r.direction.empty()) r.direction = "inbound";  // records stored before outbound calls existed
  if (const auto* v = o.if_contains("opted_out"); v && v->is_bool()) r.opted_out = v->as_bool();
  if (const auto* v = o.if_contains("handed_off"); v && v->is_bool()) r.handed_off = v->as_bool();
  VB_TRY(started, util::integer_field(o, "started_at_ms", false));
  VB_TRY(ended, util::integer_field(o, "ended_at_ms", false));
  VB_TRY(barge_ins, util::integer_field(o, "barge_ins", false));
  VB_TRY(reconnects, util::integer_field(o, "reconnects", false));
  r.reconnects = static_cast<unsigned>(std::clamp<std::int64_t>(reconnects, 0, 1000));
  r.started = from_ms(started);
  r.ended = from_ms(ended);
  r.barge_ins = static_cast<std::uint64_t>(std::max<std::int64_t>(0, barge_ins));
  if (const auto* v = o.if_contains("first_agent_audio_ms"); v && v->is_int64()) r.first_agent_audio_ms = v->as_int64();
  if (const auto* v = o.if_contains("twilio_duration_s"); v && v->is_int64()) r.twilio_duration_s = v->as_int64();
  if (const auto* codes = o.if_contains("agent_close_codes"); codes && codes->is_array())
    for (const auto& c : codes->get_array())
      if (c.is_int64()) r.agent_close_codes.push_back(static_cast<int>(c.as_int64()));
  if (const auto* lines = o.if_contains("transcript"); lines && lines->is_array()) {
    for (const auto& line : lines->get_array()) {
      if (!line.is_object()) return util::fail("transcript line is not an object");
      VB_TRY(role, util::string_field(line.get_object(), "role", true));
      VB_TRY(line_text, util::string_field(line.get_object(), "text", true));
      VB_TRY(event_id, util::integer_field(line.get_object(), "event_id", false));
      VB_TRY(at_ms, util::integer_field(line.get_object(), "at_ms", false));
      r.transcript.push_back({std::move(role), std::move(line_text), event_id, at_ms});
    }
  }
  return r;
}

}  // namespace voicebridge::records
