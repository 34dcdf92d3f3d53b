#include "voicebridge/app/metrics.hpp"

#include <algorithm>
#include <charconv>

namespace voicebridge::app {

void labelled_counter::inc(std::string_view label_value, std::uint64_t n) {
  std::lock_guard lock(mutex_);
  auto it = values_.find(label_value);
  if (it == values_.end()) it = values_.emplace(std::string(label_value), 0).first;
  it->second += n;
}

std::uint64_t labelled_counter::value(std::string_view label_value) const {
  std::lock_guard lock(mutex_);
  auto it = values_.find(label_value);
  return it == values_.end() ? 0 : it->second;
}

std::map<std::string, std::uint64_t, std::less<>> labelled_counter::snapshot() const {
  std::lock_guard lock(mutex_);
  return values_;
}

void label_pair_counter::inc(std::string_view first, std::string_view second, std::uint64_t n) {
  std::lock_guard lock(mutex_);
  values_[key(first, second)] += n;
}

std::uint64_t label_pair_counter::value(std::string_view first, std::string_view second) const {
  std::lock_guard lock(mutex_);
  auto it = values_.find(key(first, second));
  return it == values_.end() ? 0 : it->second;
}

std::map<label_pair_counter::key, std::uint64_t> label_pair_counter::snapshot() const {
  std::lock_guard lock(mutex_);
  return values_;
}

void histogram::observe(double seconds) {
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  if (i < bounds.size()) buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(seconds, std::memory_order_relaxed);
}

std::uint64_t histogram::cumulative(std::size_t i) const {
  std::uint64_t total = 0;
  for (std::size_t k = 0; k <= i && k < bounds.size(); ++k) total += buckets_[k].load(std::memory_order_relaxed);
  return total;
}

gateway_metrics& metrics() {
  static gateway_metrics m;
  return m;
}

namespace {

// The shortest text that reads back as the same double (0.1, not 0.10000000000000001).
std::string number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string escape_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

class exposition {
 public:
  void header(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP voicebridge_";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE voicebridge_";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, const std::string& value) {
    out_ += "voicebridge_";
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void counter(std::string_view name, std::string_view help, const app::counter& c) {
    header(name, "counter", help);
    sample(name, {}, std::to_string(c.value()));
  }
  void gauge(std::string_view name, std::string_view help, const app::gauge& g) {
    header(name, "gauge", help);
    sample(name, {}, number(g.value()));
  }
  void labelled(std::string_view name, std::string_view label, std::string_view help, const labelled_counter& c) {
    header(name, "counter", help);
    for (const auto& [value, n] : c.snapshot())
      sample(name, std::string(label) + "=\"" + escape_label(value) + "\"", std::to_string(n));
  }
  void labelled(std::string_view name, std::string_view first, std::string_view second, std::string_view help,
                const label_pair_counter& c) {
    header(name, "counter", help);
    for (const auto& [values, n] : c.snapshot())
      sample(name,
             std::string(first) + "=\"" + escape_label(values.first) + "\"," + std::string(second) + "=\"" +
                 escape_label(values.second) + "\"",
             std::to_string(n));
  }
  // Two counters that differ only by one label: one family.
  void directions(std::string_view name, std::string_view help, std::string_view a, const app::counter& ca,
                  std::string_view b, const app::counter& cb) {
    header(name, "counter", help);
    sample(name, "direction=\"" + std::string(a) + "\"", std::to_string(ca.value()));
    sample(name, "direction=\"" + std::string(b) + "\"", std::to_string(cb.value()));
  }
  void histogram(std::string_view name, std::string_view help, const app::histogram& h) {
    header(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    // Read the count first: buckets never exceed it even while other threads observe.
    const auto count = h.count();
    for (std::size_t i = 0; i < app::histogram::bounds.size(); ++i)
      sample(bucket, "le=\"" + number(app::histogram::bounds[i]) + "\"", std::to_string(std::min(count, h.cumulative(i))));
    sample(bucket, "le=\"+Inf\"", std::to_string(count));
    sample(std::string(name) + "_sum", {}, number(h.sum()));
    sample(std::string(name) + "_count", {}, std::to_string(count));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string render_metrics() {
  const auto& m = metrics();
  exposition e;
  e.gauge("active_calls", "Twilio media streams in progress (authenticated).", m.active_calls);
  e.gauge("pending_streams", "Stream sockets waiting for an authenticated start.", m.pending_streams);
  e.labelled("calls_total", "outcome", "Calls ended, by outcome.", m.calls);
  e.labelled("route_calls_total", "route", "outcome", "Calls ended, by route (ROUTES_FILE) and outcome.", m.route_calls);
  e.counter("unrouted_calls_total", "Voice webhooks for a called number no route takes (answered with the unavailable message).",
            m.unrouted_calls);
  e.labelled("webhook_responses_total", "status", "Answers to Twilio's HTTP requests, by status code.",
             m.webhook_responses);
  e.directions("caller_frames_total", "Media frames on the Twilio stream.", "in", m.frames_from_caller, "out",
               m.frames_to_caller);
  e.directions("caller_audio_bytes_total", "Audio bytes (mu-law) on the Twilio stream.", "in", m.bytes_from_caller,
               "out", m.bytes_to_caller);
  e.counter("caller_audio_coalesced_total",
            "Agent audio chunks that queued behind a busy Twilio socket and left in the media message of the chunk "
            "before them.",
            m.coalesced_audio_chunks);
  e.directions("agent_frames_total", "Audio messages on the agent connection.", "in", m.frames_from_agent, "out",
               m.frames_to_agent);
  e.histogram("agent_connect_seconds", "Agent connection set-up (signed URL, TCP, TLS, upgrade, metadata).",
              m.agent_connect_seconds);
  e.histogram("first_agent_audio_seconds", "From the stream's start to the first agent audio sent to the caller.",
              m.first_agent_audio_seconds);
  e.histogram("first_agent_audio_from_webhook_seconds",
              "Pre-warmed calls: from the voice webhook to the first agent audio sent to the caller.",
              m.first_agent_audio_from_webhook_seconds);
  e.labelled("prewarms_total", "result", "Agent conversations opened at the webhook, by what became of them.",
             m.prewarms);
  e.counter("barge_ins_total", "Agent interruptions (caller spoke over the agent).", m.barge_ins);
  e.labelled("agent_close_codes_total", "code", "Agent connections ended, by WebSocket close code.",
             m.agent_close_codes);
  e.labelled("rejected_streams_total", "reason", "Media streams refused, by reason.", m.rejected_streams);
  e.labelled("limit_hits_total", "limit", "Configured limits reached, by limit.", m.limit_hits);
  e.labelled("recording_failures_total", "reason", "Recordings stopped or not started, by reason.",
             m.recording_failures);
  e.labelled("fallbacks_total", "reason", "Calls handed to the fallback prompt and voicemail, by reason.", m.fallbacks);
  e.labelled("agent_retries_total", "reason",
             "Agent connections tried again before the fallback prompt, by reason (unreachable: at once; rate_limited: "
             "after a backoff).",
             m.agent_retries);
  e.labelled("record_writes_total", "result", "Call record writes, by result.", m.record_writes);
  e.labelled("transfers_total", "result", "Transfers to a human over Twilio's REST API, by result.", m.transfers);
  e.labelled("stream_ends_total", "reason",
             "Twilio's <Connect action> requests answered from the shared store (several instances), by reason "
             "(lost and handed_off: a fresh stream).",
             m.stream_ends);
  e.labelled("outbound_requests_total", "result",
             "POST /api/calls requests, by result (created, replayed, invalid, refused by Twilio, unreachable, ...).",
             m.outbound_requests);
  e.labelled("outbound_calls_total", "outcome", "Outbound calls ended, by Twilio's final status.", m.outbound_calls);
  e.counter("opt_outs_total", "Callees who pressed OPT_OUT_KEY (their number is taken off campaigns).", m.opt_outs);
  e.labelled("campaign_rows_total", "event", "Campaign numbers by what happened to them (dialled, retry, done, opted_out, ...).",
             m.campaign_rows);
  e.labelled("campaign_pacing_waits_total", "reason",
             "Campaign dials put off by the campaign's pace or Twilio's limit, by reason.", m.campaign_pacing_waits);
  e.labelled("amd_results_total", "answered_by",
             "Answering-machine verdicts on outbound calls, by Twilio's AnsweredBy (timeout: none came in AMD_TIMEOUT_MS).",
             m.amd_results);
  e.labelled("webhook_deliveries_total", "kind", "result",
             "The business's webhooks by kind (precall, postcall) and result (ok, timeout, error, malformed; "
             "delivered, retried, parked).",
             m.webhook_deliveries);
  e.gauge("webhook_queue_depth", "Post-call webhook deliveries pending (in the call store, for every instance).",
          m.webhook_queue_depth);
  e.gauge("webhook_queue_age_seconds", "Age of the oldest pending post-call webhook delivery.", m.webhook_queue_age_seconds);
  e.gauge("webhooks_parked", "Post-call webhook deliveries parked as failed (GET /api/webhooks/failed).", m.webhooks_parked);
  e.labelled("console_sign_ins_total", "result", "Operator console sign-ins, by result (failures are rate-limited).",
             m.console_sign_ins);
  e.histogram("turn_first_audio_seconds", "Pipeline mode: from the end of the caller's turn to the first audio of the answer.",
              m.turn_first_audio_seconds);
  e.labelled("llm_requests_total", "result", "Pipeline mode: LLM requests by result (ok, cancelled by a barge-in, failed).",
             m.llm_requests);
  e.labelled("speech_reconnects_total", "socket", "Pipeline mode: reconnections of the STT and TTS sockets.",
             m.speech_reconnects);
  e.histogram("event_loop_lag_seconds", "How late a periodic event-loop timer fires.", m.event_loop_lag_seconds);
  e.gauge("draining", "1 while the gateway drains before exit.", m.draining);
  e.labelled("escaped_exceptions_total", "task",
             "Exceptions that escaped a coroutine to its completion handler, by task (each is a bug; the process "
             "and the other calls go on).",
             m.escaped_exceptions);
  return e.take();
}

}  // namespace voicebridge::app
