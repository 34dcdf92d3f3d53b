#include "call/call_facts.hpp"

#include <boost/asio/post.hpp>
#include <algorithm>
#include <cstdlib>
#include <charconv>

#include "records/record_writer.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::call {
using app::metrics;

namespace {
// frames: one progress line per 5 s of caller audio, at debug (the per-frame path logs nothing above debug: at
// 2,000 calls an info line per call every 5 s would be 400 lines a second). The call's end line has the totals.
constexpr std::uint64_t media_log_every = 250;

// The loudest of 16 samples spread over a frame, each decoded from its base64 group in place: enough to tell
// speech from silence, without decoding (or allocating) the whole frame 10 times a second for every call.
int sampled_peak(std::string_view base64) {
  constexpr std::size_t samples = 16;
  const std::size_t groups = base64.size() / 4;
  int peak = 0;
  for (std::size_t i = 0; i < samples && groups > 0; ++i) {
    const std::size_t at = i * groups / samples * 4;  // a group's first byte: its first two characters
    const int high = util::base64_value(base64[at]), low = util::base64_value(base64[at + 1]);
    if (high < 0 || low < 0) continue;
    const auto code = static_cast<std::uint8_t>(high << 2 | low >> 4);
    peak = std::max(peak, std::abs(static_cast<int>(audio::mulaw_decode(code))));
  }
  return peak;
}
}  // namespace

void call_facts::started(const twilio::start_message& start) {
  record_.call_sid = start.call_sid;
  record_.stream_sid = start.stream_sid;
  record_.started = std::chrono::system_clock::now();
  record_.from = start.parameter("from") ? *start.parameter("from") : "";
  record_.to = start.parameter("to") ? *start.parameter("to") : "";
  // Set by the gateway's own outbound TwiML (server/outbound_twiml.cpp), inside the signed start.
  if (const auto direction = start.parameter("direction"); direction && *direction == "outbound") record_.direction = "outbound";
  // A fresh stream after its instance was lost (server/shared_streams.cpp names the count, inside the signed start).
  if (const auto* count = start.parameter(twilio::reconnects_parameter)) {
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(count->data(), count->data() + count->size(), n);
    if (ec == std::errc() && end == count->data() + count->size()) record_.reconnects = n;
  }
}

void call_facts::record_audio(const app::config& config, boost::asio::thread_pool& disk, const std::string& call_sid) {
  // A fresh stream of the call (record_.reconnects, from its start) records a file of its own: the earlier
  // stream's, perhaps on this disk, is kept (the file is created exclusively, never overwritten).
  const std::string kind = record_.reconnects == 0 ? "call" : "call-r" + std::to_string(record_.reconnects);
  if (auto file = wav_writer::create(disk, recording_path(config.recordings_dir(), call_sid, kind), 2, call_sid))
    recorder_.emplace(std::move(file));
}

void call_facts::caller_audio(std::string_view payload, const std::string& call_sid) {
  ++frames_in_;
  const auto bytes = util::base64_decoded_size(payload);
  bytes_in_ += bytes;
  metrics().frames_from_caller.inc();
  metrics().bytes_from_caller.inc(bytes);
  if (frames_in_ % media_log_every == 0)
    app::log(app::log_level::debug, "media", {{"call_sid", call_sid}, {"frames", frames_in_}, {"bytes", bytes_in_}});
  if (recorder_) {
    if (auto audio = util::base64_decode(payload)) recorder_->caller_audio(*audio);
  }
  // Is the caller speaking (the console's live view)? Looked at every 100 ms, from a few samples.
  constexpr std::uint64_t speech_check_every = 5;
  constexpr int speech_peak = 1000;  // of 32767: above line noise and comfort noise
  if (live_ && frames_in_ % speech_check_every == 0 && sampled_peak(payload) > speech_peak)
    live_->caller_spoke(records::now_epoch_ms());
}

std::shared_ptr<live_call> call_facts::go_live(std::string route, std::function<void()> end,
                                               std::function<void(std::string)> transfer) {
  live_ = std::make_shared<live_call>();
  live_->call_sid = record_.call_sid;
  live_->from = record_.from;
  live_->to = record_.to;
  live_->direction = record_.direction;
  live_->route = std::move(route);
  live_->started_ms = records::epoch_ms(record_.started);
  live_->end = std::move(end);
  live_->transfer = std::move(transfer);
  return live_;
}

void call_facts::agent_audio(std::string_view payload, bool recorded) {
  if (recorder_ && recorded) {
    if (auto audio = util::base64_decode(payload)) recorder_->agent_audio(*audio);
  }
  ++frames_out_;
  const auto bytes = util::base64_decoded_size(payload);
  if (live_ && recorded) live_->agent_audio(bytes, records::now_epoch_ms());
  metrics().frames_to_caller.inc();
  metrics().bytes_to_caller.inc(bytes);
}

void call_facts::agent_cleared() {
  if (recorder_) recorder_->agent_cleared();
  if (live_) live_->agent_cleared(records::now_epoch_ms());
}

void call_facts::dtmf(char digit, std::optional<char> opt_out_key) {
  if (record_.dtmf.size() < records::call_record::max_dtmf) record_.dtmf += digit;
  if (opt_out_key && digit == *opt_out_key && !record_.opted_out) {
    record_.opted_out = true;
    app::metrics().opt_outs.inc();
    app::log(app::log_level::info, "opt-out key pressed: the number is taken off campaigns", {{"call_sid", record_.call_sid}});
  }
}

void call_facts::save(const std::string& outcome, const std::string& end_reason, boost::asio::thread_pool& disk,
                      records::record_writer& records) {
  record_.outcome = outcome;
  record_.ended = std::chrono::system_clock::now();
  record_.end_reason = end_reason.substr(0, 200);
  if (recorder_) {
    recorder_->finish();
    if (recorder_->file().bytes() > 0) record_.recording_path = recorder_->file().path().string();
  }
  // Through the disk thread, behind this call's files: the record is stored once its audio is durable.
  boost::asio::post(disk, [&records, record = std::move(record_)]() mutable { records.submit(std::move(record)); });
}

}  // namespace voicebridge::call
