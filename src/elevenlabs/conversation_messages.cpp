// What a conversation does with each message: the agent's (audio, interruptions, pings, tools, errors,
// transcripts) and the caller's (audio, keys, marks). No I/O here: messages toward the agent are queued
// for the writer, audio toward the caller goes through the caller_link.
#include "call/gateway_tools.hpp"
#include "elevenlabs/agent_conversation.hpp"
#include "util/overloaded.hpp"
#include "util/recycled_text.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::elevenlabs {
using app::log;
using app::log_level;
using app::metrics;

void conversation::attach(call::caller_link& caller, std::shared_ptr<call::caller_link> keepalive) {
  caller_ = &caller;
  caller_keepalive_ = std::move(keepalive);
  attached_at_ = std::chrono::steady_clock::now();
  adopt_deadline_.cancel();
  if (prewarmed_)
    log(log_level::info, "pre-warmed agent adopted",
        {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}, {"early_audio_chunks", early_audio_.size()}});
  for (auto& [audio, event_id] : early_audio_) deliver_audio(audio, event_id);
  early_audio_ = {};  // gone for good: give the memory back
  for (const auto& [role, text] : early_lines_) caller_->said(role, text);
  early_lines_ = {};
  if (!early_transfer_.empty()) caller_->transfer(std::exchange(early_transfer_, {}));  // after the audio before it
}

void conversation::on_caller_audio(std::string_view payload) {
  // Until the metadata tells the agent's input format, caller audio waits here, in order.
  if (!ready_) {
    if (pending_.size() < settings_.max_buffered_messages) pending_.emplace_back(payload);
    else limits_.hit("agent_buffer", call_sid_);
    return;
  }
  forward_caller_audio(payload);
}

void conversation::forward_caller_audio(std::string_view payload) {
  std::string text = util::recycled_text();  // the frame's message, in a string the writer gave back
  if (transcoder_) serialize_user_audio(text, transcoder_->to_agent(payload));
  else serialize_user_audio(text, payload);  // mu-law passes through untouched
  if (out_.push(std::move(text))) metrics().frames_to_agent.inc();
  else if (!out_.closed()) limits_.hit("agent_buffer", call_sid_);
}

void conversation::on_dtmf(char digit) {
  const std::string text = call::dtmf_sentence(digit);
  out_.push(settings_.dtmf_as_user_message ? serialize_user_message(text) : serialize_contextual_update(text));
}

// ElevenLabs Agents WebSocket API, "contextual_update": what the agent should know, without a turn of its own.
void conversation::on_context(const std::string& text) { out_.push(serialize_contextual_update(text)); }

void conversation::describe(records::call_record& record) const {
  if (!conversation_id_.empty()) record.conversation_id = conversation_id_;
  if (first_audio_ms_) record.first_agent_audio_ms = first_audio_ms_;
  record.barge_ins += barge_ins_;
  if (connected_) record.agent_close_codes.push_back(close_code_);
  record.transcript.insert(record.transcript.end(), facts_.transcript.begin(), facts_.transcript.end());
}

bool conversation::take_metadata(std::string_view text) {
  auto first = parse_server_message(text);
  auto* meta = first ? std::get_if<initiation_metadata>(&*first) : nullptr;
  if (!meta) return fail("first message is not conversation_initiation_metadata");
  conversation_id_ = meta->conversation_id;
  if (!meta->agent_output.is_twilio_native() || !meta->user_input.is_twilio_native()) {
    if (!meta->agent_output.is_twilio_native() && meta->agent_output.encoding != audio_format::kind::pcm)
      return fail("unsupported agent output format");
    transcoder_ = std::make_unique<transcoder>(meta->user_input, meta->agent_output);
    log(log_level::warn, "agent audio is not ulaw_8000: transcoding; set the agent's input and output to mu-law 8000 Hz",
        {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}});
  }
  ready_ = true;
  for (const auto& payload : pending_) forward_caller_audio(payload);
  pending_ = {};
  return true;
}

void conversation::on_message(std::string_view text) {
  // Audio, 50 times a second, is read in place; anything else, or audio in another form, through the DOM.
  if (const auto audio = read_audio_in_place(text)) return on_audio(audio->audio_base64, audio->event_id);
  auto parsed = parse_server_message_dom(text);
  if (!parsed) {
    log(log_level::warn, "invalid agent message ignored", {{"call_sid", call_sid_}, {"error", parsed.error().message}});
    return;
  }
  std::visit(util::overloaded{
                 [&](audio_event& a) { on_audio(a.audio_base64, a.event_id); },
                 [&](interruption_event& i) { on_interruption(i.event_id); },
                 [&](ping_event& p) { out_.push(serialize_pong(p.event_id)); },
                 [&](client_tool_call& t) { on_tool_call(t); },
                 [&](agent_error& e) {
                   if (is_quota_error(e.message, e.error_type)) quota_error_ = true;
                   log(log_level::error, "agent error",
                       {{"call_sid", call_sid_}, {"code", e.code.value_or(0)}, {"type", e.error_type}, {"message", e.message}});
                 },
                 [&](user_transcript& t) {
                   log(log_level::debug, "user transcript", {{"call_sid", call_sid_}, {"text", t.text}});
                   report_line("user", t.text);
                   facts_.add_user_text(std::move(t.text), t.event_id);
                 },
                 [&](agent_response& r) {
                   log(log_level::debug, "agent response", {{"call_sid", call_sid_}, {"text", r.text}});
                   report_line("agent", r.text);
                   facts_.add_agent_text(std::move(r.text), r.event_id);
                 },
                 [&](agent_response_correction& c) { facts_.correct_agent_text(c.event_id, std::move(c.corrected)); },
                 [&](auto&) {},
             },
             *parsed);
}

void conversation::report_line(std::string_view role, const std::string& text) {
  if (caller_) caller_->said(role, text);
  else if (early_lines_.size() < settings_.max_buffered_messages) early_lines_.emplace_back(role, text);
}

void conversation::on_interruption(std::int64_t event_id) {
  filter_.on_interruption(event_id);
  ++barge_ins_;
  metrics().barge_ins.inc();
  early_audio_.clear();
  if (caller_) caller_->clear_audio();
  log(log_level::info, "barge-in", {{"call_sid", call_sid_}, {"event_id", event_id}});
}

void conversation::on_audio(std::string_view audio_base64, std::int64_t event_id) {
  if (filter_.is_stale(event_id)) return;
  metrics().frames_from_agent.inc();
  if (caller_) {
    deliver_audio(audio_base64, event_id);
  } else if (early_audio_.size() < settings_.max_buffered_messages) {
    early_audio_.emplace_back(audio_base64, event_id);  // until a call adopts us
  } else {
    limits_.hit("agent_buffer", call_sid_);
  }
}

// end_call / hang_up: the agent closes next. transfer_to_number: over Twilio's REST API.
void conversation::on_tool_call(const client_tool_call& t) {
  auto request = call::read_tool_call(t.tool_name, t.parameters_json);
  if (request.what == call::tool_request::kind::transfer) {
    log(log_level::info, "agent asked for a transfer", {{"call_sid", call_sid_}, {"number", request.number}});
    // A pre-warmed conversation's agent can ask before the stream adopted it (its greeting and the tool call
    // came while Twilio was still connecting): the transfer waits for the call, behind the early audio.
    if (caller_) caller_->transfer(request.number);
    else early_transfer_ = request.number;
  }
  out_.push(serialize_tool_result(t.tool_call_id, request.result, request.is_error));
}

void conversation::deliver_audio(std::string_view audio_base64, std::int64_t event_id) {
  if (!first_audio_ms_) {
    const auto now = std::chrono::steady_clock::now();
    metrics().first_agent_audio_seconds.observe(now - attached_at_);
    first_audio_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(now - attached_at_).count();
    if (prewarmed_) metrics().first_agent_audio_from_webhook_seconds.observe(now - created_);
    log(log_level::info, "first agent audio",
        {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}, {"ms_since_start", *first_audio_ms_}});
  }
  std::string transcoded;
  if (transcoder_) {
    transcoded = transcoder_->to_caller(audio_base64);
    if (transcoded.empty()) return;
    audio_base64 = transcoded;
  }
  // One mark per agent turn, before its first chunk: Twilio echoes it when that turn starts playing. A
  // mark per chunk would double the messages (and syscalls) toward Twilio for nothing we use.
  if (event_id != last_marked_turn_) {
    last_marked_turn_ = event_id;
    caller_->send_mark("turn-" + std::to_string(event_id));
  }
  caller_->send_audio(audio_base64);
}

}  // namespace voicebridge::elevenlabs
