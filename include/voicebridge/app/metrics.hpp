// Process-wide Prometheus metrics: lock-free counters on the per-frame path, small locked maps for the
// rare labelled events (per call, per request), rendered in the text exposition format for GET /metrics.
// Label values are fixed vocabularies chosen by the code (outcome, reason, status), never request data,
// so no secret can become a label.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace voicebridge::app {

class counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
 public:
  void inc() { value_.fetch_add(1, std::memory_order_relaxed); }
  void dec() { value_.fetch_sub(1, std::memory_order_relaxed); }
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts by one label's value, e.g. calls_total{outcome="served"}.
class labelled_counter {
 public:
  void inc(std::string_view label_value, std::uint64_t n = 1);
  std::uint64_t value(std::string_view label_value) const;
  std::map<std::string, std::uint64_t, std::less<>> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t, std::less<>> values_;
};

// Counts by two labels' values, e.g. route_calls_total{route="sales",outcome="agent"}.
class label_pair_counter {
 public:
  using key = std::pair<std::string, std::string>;
  void inc(std::string_view first, std::string_view second, std::uint64_t n = 1);
  std::uint64_t value(std::string_view first, std::string_view second) const;
  std::map<key, std::uint64_t> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<key, std::uint64_t> values_;
};

// Latencies in seconds, with buckets from 1 ms to 10 s.
class histogram {
 public:
  static constexpr std::array<double, 14> bounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                 0.25,  0.5,    1,     2.5,  5,     10,  30};
  void observe(double seconds);
  void observe(std::chrono::steady_clock::duration d) { observe(std::chrono::duration<double>(d).count()); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Cumulative count of observations <= bounds[i].
  std::uint64_t cumulative(std::size_t i) const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<std::uint64_t>, bounds.size()> buckets_{};  // not cumulative
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

struct gateway_metrics {
  gauge active_calls;            // Twilio streams in progress (authenticated)
  gauge pending_streams;         // stream sockets waiting for an authenticated `start`
  labelled_counter calls;        // by outcome, when a call ends (or is refused at the webhook)
  label_pair_counter route_calls;  // by route (a name from the routes file) and outcome
  counter unrouted_calls;          // voice webhooks for a number no route takes
  labelled_counter webhook_responses;  // by HTTP status
  counter frames_from_caller, bytes_from_caller, frames_to_caller, bytes_to_caller;
  counter coalesced_audio_chunks;  // agent chunks sent inside the media message of the chunk before them
  counter frames_to_agent, frames_from_agent;
  histogram agent_connect_seconds;
  histogram first_agent_audio_seconds;  // from the stream's `start` to the first agent audio sent to Twilio
  histogram first_agent_audio_from_webhook_seconds;  // pre-warmed calls: from the webhook instead
  // by result: opened, hit, miss, expired, failed, failed_after_adoption, adopted_across_threads (of the hits:
  // the stream ran on another io thread than its conversation)
  labelled_counter prewarms;
  counter barge_ins;
  labelled_counter agent_close_codes;  // by WebSocket close code ("none" when the socket just dropped)
  labelled_counter rejected_streams;   // by reason
  labelled_counter limit_hits;         // by limit
  labelled_counter recording_failures; // by reason: disk_full, open, write, fsync
  labelled_counter fallbacks;          // by reason: unreachable, rate_limited, refused, failed_mid_call
  labelled_counter agent_retries;      // agent connections tried again before the fallback, by reason
  labelled_counter record_writes;      // by result: stored, spooled, replayed, failed
  labelled_counter transfers;          // by result: ok, failed
  // Several instances: Twilio's <Connect action> requests answered from the shared store, by reason (served,
  // never_served, refused, lost, handed_off, fresh_stream_failed, too_many_reconnects, claimed_elsewhere).
  labelled_counter stream_ends;
  // Outbound calls (POST /api/calls).
  labelled_counter outbound_requests;  // by result: created, replayed, invalid, refused, unreachable, in_progress
  labelled_counter outbound_calls;     // by Twilio's final status for a call placed: completed, busy, no_answer, ...
  counter opt_outs;                        // callees who pressed OPT_OUT_KEY
  labelled_counter campaign_rows;         // campaign numbers by what happened: dialled, retry, done, opted_out, failed,
                                         // unknown, status_recovered (its final status fetched from Twilio)
  labelled_counter campaign_pacing_waits;  // dials put off: max_concurrent, calls_per_second, twilio_429, store_unavailable
  labelled_counter amd_results;        // answering-machine verdicts by AnsweredBy (human, machine_end_beep, ...), and timeout
  // The business's webhooks (pre-call: ok, timeout, error, malformed; post-call: delivered, retried, parked).
  label_pair_counter webhook_deliveries;  // by kind (precall, postcall) and result
  gauge webhook_queue_depth;              // post-call deliveries pending (all instances: it is the store's)
  gauge webhook_queue_age_seconds;        // how long the oldest pending one has been queued
  gauge webhooks_parked;                  // parked as failed, waiting for a person (GET /api/webhooks/failed)
  labelled_counter console_sign_ins;      // the operator console's sign-ins by result: signed_in, wrong_token, rate_limited
  // Pipeline mode (STT -> LLM -> TTS).
  histogram turn_first_audio_seconds;  // end of the caller's turn (committed transcript) -> first answer audio
  labelled_counter llm_requests;       // by result: ok, cancelled, failed
  labelled_counter speech_reconnects;  // by socket: stt, tts
  histogram event_loop_lag_seconds;
  gauge draining;
  labelled_counter escaped_exceptions;  // by task: what escaped a coroutine to its completion handler (a bug)
};

gateway_metrics& metrics();

// The whole registry in the Prometheus text exposition format (version 0.0.4).
std::string render_metrics();

inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace voicebridge::app
