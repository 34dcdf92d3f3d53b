// The Twilio side of a call: a reader that parses every frame and hands events to the agent, a single
// writer that owns all sends (Beast allows one outstanding write), and the agent's own coroutine.
#include "call/twilio_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <variant>

#include "call/agent_retry.hpp"
#include "call/limit_log.hpp"
#include "call/local_agent.hpp"
#include "call/message_queue.hpp"
#include "call/recording.hpp"
#include "records/record_writer.hpp"
#include "util/overloaded.hpp"
#include "util/recycled_text.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/signature.hpp"
#include "voicebridge/twilio/stream_token.hpp"
#include "voicebridge/twilio/twiml.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using namespace asio::experimental::awaitable_operators;
using app::log;
using app::log_level;
using app::metrics;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// The bare socket under the WebSocket: its own timer bounds the handshake and the close, the call's watchdog
// idle reads and writes; a basic_stream would add two idle timers and a layer to every operation.
using ws_stream = websocket::stream<asio::ip::tcp::socket>;

struct close_request {
  websocket::close_code code;
  std::string reason;
};
// Agent audio for the caller (base64 mu-law); the writer makes it a media message, merged with the audio
// queued right behind it.
struct caller_audio {
  std::string payload;
};
using outbound_item = std::variant<std::string, caller_audio, close_request>;

// A media message is about 370 bytes: reading in steps of 512 keeps the call's read buffer at that size (a
// larger message grows it as needed).
constexpr std::size_t read_step = 512;
// frames: one progress line per 5 s of caller audio, at debug (the per-frame path logs nothing above debug: at
// 2,000 calls an info line per call every 5 s would be 400 lines a second). The call's end line has the totals.
constexpr std::uint64_t media_log_every = 250;
// Audio that piled up behind a busy socket leaves in messages of at most this much (1 s of mu-law, as Twilio's
// own sample sends; twilio.md §3).
constexpr std::size_t max_coalesced_audio = 8000;

class twilio_call final : public caller_link, public std::enable_shared_from_this<twilio_call> {
 public:
  twilio_call(ws_stream& ws, upgrade_auth auth, pending_streams::ticket pending, stream_services& services)
      : ws_(ws),
        services_(services),
        config_(services.config),
        auth_(auth),
        pending_(std::move(pending)),
        out_(ws.get_executor(), std::numeric_limits<std::size_t>::max()),
        starts_(ws.get_executor(), 1),
        timer_(ws.get_executor()),
        began_(std::chrono::steady_clock::now()),
        last_heard_(began_) {
    // A pong (or any control frame) is news from the caller too: it answers the watchdog's ping.
    ws_.control_callback([this](websocket::frame_type, beast::string_view) { last_heard_ = std::chrono::steady_clock::now(); });
  }

  asio::awaitable<void> run() {
    arm_watchdog();
    // One group of three rather than nested `&&`s, whose every level is a coroutine frame more per call. As
    // with `&&`, an exception in one cancels the others and is rethrown.
    const auto executor = ws_.get_executor();
    auto [order, e1, e2, e3] =
        co_await asio::experimental::make_parallel_group(asio::co_spawn(executor, read_loop(), asio::deferred),
                                                         asio::co_spawn(executor, write_loop(), asio::deferred),
                                                         asio::co_spawn(executor, agent_loop(), asio::deferred))
            .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    (void)order;
    writer_done_ = true;  // also when the writer was cancelled: the watchdog lets go of the call
    timer_.cancel();
    for (const auto& e : {e1, e2, e3})
      if (e) std::rethrow_exception(e);
    const std::string outcome = !record_.transferred_to.empty() ? records::outcome::transferred
                                : authenticated_ && protocol_violated_ ? records::outcome::protocol_error
                                : !record_.outcome.empty()   ? record_.outcome
                                : refused_ || authenticated_ ? records::outcome::rejected
                                                             : "abandoned";
    if (outcome == records::outcome::agent || outcome == records::outcome::voicemail ||
        outcome == records::outcome::fallback || outcome == records::outcome::transferred)
      services_.completed.add(call_sid_);
    metrics().calls.inc(outcome);
    if (authenticated_) save_record(outcome);  // only authenticated calls: nobody else can write records
    log(log_level::info, "call ended",
        {{"call_sid", call_sid_}, {"stream_sid", stream_sid_}, {"outcome", outcome}, {"frames_in", frames_in_}, {"bytes_in", bytes_in_},
         {"frames_out", frames_out_}, {"dropped_out", dropped_out_},
         {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began_).count()},
         {"end", end_reason_}});
  }

  // caller_link
  void send_audio(std::string_view payload) override {
    if (recorder_ && !closing_) {
      if (auto audio = util::base64_decode(payload)) recorder_->agent_audio(*audio);
    }
    ++frames_out_;
    metrics().frames_to_caller.inc();
    metrics().bytes_to_caller.inc(util::base64_decoded_size(payload));
    std::string chunk = util::recycled_text();  // in a string a writer gave back
    chunk.assign(payload);
    const auto size = chunk.size();
    enqueue(caller_audio{std::move(chunk)}, size);
  }
  void send_mark(std::string name) override { enqueue(twilio::serialize_mark(stream_sid_, name)); }
  void clear_audio() override {
    if (closing_) return;
    out_.clear();
    queued_bytes_ = 0;
    if (recorder_) recorder_->agent_cleared();
    enqueue(twilio::serialize_clear(stream_sid_));
  }
  void hang_up() override { request_close(websocket::close_code::normal, "call ended"); }

  void transfer(const std::string& number) override {
    if (transferring_ || closing_) return;
    if (config_.twilio_account_sid.empty() || !twilio::is_e164(number)) {
      log(log_level::error, "transfer refused: set TWILIO_ACCOUNT_SID, and dial an E.164 number",
          {{"call_sid", call_sid_}, {"number", number}});
      return;
    }
    transferring_ = true;
    asio::co_spawn(ws_.get_executor(), redirect_to(shared_from_this(), number), asio::detached);
  }

  // Twilio runs the new TwiML (<Dial>) and ends this stream with `stop`, possibly before its answer
  // arrives: the record says "transferred" from the start and is corrected if Twilio refuses.
  static asio::awaitable<void> redirect_to(std::shared_ptr<twilio_call> self, std::string number) {
    const std::string twiml = twilio::render_dial(number);
    log(log_level::info, "transferring the call", {{"call_sid", self->call_sid_}, {"number", number}});
    const std::string previous = self->record_.transferred_to;
    self->record_.transferred_to = number;
    const auto result = co_await twilio::update_call_twiml(self->services_.rest, self->call_sid_, twiml);
    self->transferring_ = false;
    if (result.ok()) {
      app::metrics().transfers.inc("ok");
      log(log_level::info, "call transferred", {{"call_sid", self->call_sid_}, {"number", number}});
    } else {
      self->record_.transferred_to = previous;
      app::metrics().transfers.inc("failed");
      log(log_level::error, "transfer failed: the call goes on", {{"call_sid", self->call_sid_}, {"error", result.error}});
    }
  }

  // The drain deadline passed: end the call as a hang-up would (agent socket closed with 1000).
  void end_for_drain() { request_close(websocket::close_code::going_away, "gateway shutting down"); }

  // The call is over, however it ended (run() returned or threw): its places in the budgets are given back
  // now, not when the last handler holding it lets go, and the watchdog stops.
  void finish() {
    writer_done_ = true;
    timer_.cancel();
    registration_.reset();
    pending_.release();
  }

 private:
  void enqueue(std::string text) {
    const auto size = text.size();
    enqueue(std::move(text), size);
  }
  void enqueue(outbound_item item, std::size_t size) {
    if (closing_) return;
    if (queued_bytes_ + size > config_.max_outbound_queue_bytes) {
      ++dropped_out_;
      limits_.hit("outbound_queue", call_sid_);
      return;
    }
    queued_bytes_ += size;
    out_.push(std::move(item));
  }
  void dequeued(std::size_t size) { queued_bytes_ -= std::min(queued_bytes_, size); }

  // The media message for `first` and the agent audio queued right behind it: audio that piled up while the
  // socket was busy (an agent's burst, a caller reading slowly) leaves in one message rather than one per
  // chunk, one send instead of several, up to max_coalesced_audio. A mark or a clear between chunks ends the
  // merge, so marks still follow the audio they followed. The writer never waits to merge (no added latency):
  // a chunk alone, the usual case, passes through as it came, not decoded.
  std::string media_text(caller_audio& first) {
    std::string text = util::recycled_text();
    caller_audio* next = queued_audio();
    if (!next) {
      twilio::serialize_media(text, stream_sid_, first.payload);
      util::recycle_text(std::move(first.payload));
      return text;
    }
    auto audio = util::base64_decode(first.payload).value_or(std::vector<std::uint8_t>{});  // valid: checked on arrival
    util::recycle_text(std::move(first.payload));
    std::size_t merged = 1;
    for (; next && audio.size() + util::base64_decoded_size(next->payload) <= max_coalesced_audio; next = queued_audio()) {
      if (auto more = util::base64_decode(next->payload)) audio.insert(audio.end(), more->begin(), more->end());
      dequeued(next->payload.size());
      util::recycle_text(std::move(next->payload));
      out_.drop_front();
      ++merged;
    }
    metrics().coalesced_audio_chunks.inc(merged - 1);
    twilio::serialize_media(text, stream_sid_, util::base64_encode(audio));
    return text;
  }
  // The agent audio at the head of the queue, if that is what comes next.
  caller_audio* queued_audio() {
    auto* item = out_.front();
    return item ? std::get_if<caller_audio>(item) : nullptr;
  }

  void request_close(websocket::close_code code, std::string reason) {
    if (closing_) return;
    closing_ = true;
    if (end_reason_.empty()) end_reason_ = reason;
    if (reason.size() > 120) reason.resize(120);  // a close frame's reason is at most 123 bytes
    out_.push(close_request{code, std::move(reason)});
  }

  // The peer broke the protocol or failed authentication: log why (never its payload) and close with `code`.
  // `label` is the metric's fixed reason; `reason` goes to the log and the close frame.
  void refuse(websocket::close_code code, std::string_view label, std::string reason, std::string detail = {}) {
    if (closing_) return;
    refused_ = true;
    // Broken framing or messages are the stream's fault, not the agent's: the record says so.
    protocol_violated_ = label == "binary_frame" || label == "invalid_message" || label == "before_start" ||
                         label == "message_too_big";
    metrics().rejected_streams.inc(label);
    log(log_level::warn, "twilio stream refused",
        {{"call_sid", call_sid_}, {"reason", reason}, {"detail", detail}, {"close_code", static_cast<int>(code)}});
    request_close(code, std::move(reason));
  }

  asio::awaitable<void> read_loop() {
    beast::flat_buffer buffer;
    for (;;) {
      beast::error_code ec;
      bool oversized = false;
      do {  // a message in steps of read_step: async_read would make room for 1536 bytes first
        auto [step_ec, n] = co_await ws_.async_read_some(buffer, read_step, use_tuple);
        ec = step_ec;
        // MAX_WS_MESSAGE_BYTES is enforced here rather than by Beast's read_message_max: Beast 1.81 fails such a
        // read by sending 1009 and tearing the socket down at once, and its teardown drains one read only
        // (websocket/impl/teardown.hpp keeps no count of what it read), so a peer still sending is reset and
        // sees 1006. Here the close is the writer's ordinary close handshake, which drains what the peer sends
        // until its close frame; the rest of the message is read and thrown away meanwhile.
        if (buffer.size() > config_.max_ws_message) {
          if (!oversized) refuse_oversized();
          oversized = true;
          buffer.consume(buffer.size());
        }
      } while (!ec && !ws_.is_message_done());
      if (ec) {
        note_read_end(ec);
        break;
      }
      last_heard_ = std::chrono::steady_clock::now();
      if (!oversized) {  // (an oversized message was refused above)
        if (!ws_.got_text())
          refuse(websocket::close_code::unknown_data, "binary_frame", "binary frame");
        else if (!closing_)
          on_message({static_cast<const char*>(buffer.data().data()), buffer.size()});
      }
      buffer.consume(buffer.size());
      if (buffer.capacity() > read_step) buffer.shrink_to_fit();  // after `start`: the rest are media-sized
    }
    // The socket is gone: nothing more will come from the caller.
    caller_gone_ = true;
    starts_.close();
    if (agent_) agent_->on_caller_hangup();
    out_.close();
  }

  void refuse_oversized() {
    limits_.hit("ws_message_size", call_sid_);
    refuse(websocket::close_code::too_big, "message_too_big", "message too big");
  }

  void note_read_end(const beast::error_code& ec) {
    if (ec == websocket::error::closed) {
      if (end_reason_.empty()) end_reason_ = "twilio closed";
      return;
    }
    const char* what = idle_timed_out_ || ec == beast::error::timeout ? "idle timeout" : "connection error";
    if (end_reason_.empty()) end_reason_ = what;
    log(closing_ ? log_level::debug : log_level::warn, "twilio stream read ended",
        {{"call_sid", call_sid_}, {"reason", what}, {"error", ec.message()}});
  }

  void on_message(std::string_view text) {
    // Media, 50 times a second, is read in place; anything else, or media in another form, through the DOM.
    if (const auto media = twilio::read_media_in_place(text)) return on_media(media->payload);
    auto parsed = twilio::parse_inbound_dom(text);
    if (!parsed) {
      return refuse(websocket::close_code::bad_payload, "invalid_message", "invalid message", parsed.error().message);
    }
    std::visit(util::overloaded{
                   [&](twilio::connected_message& m) {
                     log(log_level::info, "connected", {{"protocol", m.protocol}, {"version", m.version}});
                   },
                   [&](twilio::start_message& m) { on_start(m); },
                   [&](twilio::media_message& m) { on_media(m.payload); },
                   [&](twilio::dtmf_message& m) {
                     if (!started_) return refuse(websocket::close_code::policy_error, "before_start", "dtmf before start");
                     if (record_.dtmf.size() < records::call_record::max_dtmf) record_.dtmf += m.digit[0];
                     if (m.digit[0] == config_.operator_key && !config_.operator_number.empty())
                       transfer(config_.operator_number);  // "0 for an operator": a human, not the agent
                     else
                       agent_->on_dtmf(m.digit[0]);
                   },
                   [&](twilio::mark_message& m) {
                     if (started_) agent_->on_mark(m.name);
                   },
                   [&](twilio::stop_message&) {
                     log(log_level::info, "stop", {{"call_sid", call_sid_}, {"stream_sid", stream_sid_}});
                     end_reason_ = "twilio stop";
                     caller_gone_ = true;
                     if (agent_) agent_->on_caller_hangup();
                     else request_close(websocket::close_code::normal, "stop before start");
                   },
                   [&](twilio::unknown_message& m) {
                     log(log_level::debug, "unknown twilio event ignored", {{"call_sid", call_sid_}, {"event", m.event}});
                   },
               },
               *parsed);
  }

  void on_start(twilio::start_message& start) {
    if (started_) {
      log(log_level::warn, "duplicate start ignored", {{"call_sid", call_sid_}});
      return;
    }
    call_sid_ = start.call_sid;
    if (const std::string* token = start.parameter(twilio::stream_token_parameter)) {
      auto status = twilio::verify_stream_token(config_.twilio_stream_token, *token, start.call_sid,
                                                std::chrono::system_clock::now());
      if (status != twilio::stream_token_status::valid)
        return refuse(websocket::close_code::policy_error, "bad_stream_token",
                      "stream token " + std::string(twilio::to_string(status)));
    } else if (auth_ == upgrade_auth::none) {
      return refuse(websocket::close_code::policy_error, "no_credentials", "no credentials");
    }
    authenticated_ = true;
    record_.call_sid = call_sid_;
    record_.stream_sid = start.stream_sid;
    record_.started = std::chrono::system_clock::now();
    record_.from = start.parameter("from") ? *start.parameter("from") : "";
    record_.to = start.parameter("to") ? *start.parameter("to") : "";
    if ((!start.encoding.empty() && start.encoding != "audio/x-mulaw") ||
        (start.sample_rate != 0 && start.sample_rate != 8000) || (start.channels != 0 && start.channels != 1))
      return refuse(websocket::close_code::unknown_data, "unsupported_format", "unsupported media format " + start.encoding);
    // A stream this instance's webhook admitted has its slot; any other must find room under MAX_CALLS now.
    if (!services_.admitted.stream_started(call_sid_) && services_.active.size() >= config_.max_calls) {
      limits_.hit("max_calls", call_sid_);
      return refuse(websocket::close_code::try_again_later, "over_capacity", "at MAX_CALLS");
    }
    register_call();
    started_ = true;
    stream_sid_ = start.stream_sid;
    start_ = start;
    log(log_level::info, "start", {{"call_sid", call_sid_}, {"stream_sid", stream_sid_}});
    if (config_.record_calls) {
      if (auto file = wav_writer::create(services_.disk, recording_path(config_.recordings_dir(), call_sid_, "call"), 2, call_sid_))
        recorder_.emplace(std::move(file));
    }
    if (services_.prewarms)  // the conversation opened at the webhook, if it is waiting for us
      agent_ = services_.prewarms->adopt(start, ws_.get_executor(), weak_from_this());
    if (!agent_) agent_ = fresh_agent();
    starts_.push(true);
  }

  // From its authenticated start the call counts as active (MAX_CALLS, the drain, the gauge), and no longer
  // as pending. The drain's closer runs on the call's strand, where it cannot race the call's own end.
  void register_call() {
    pending_.release();
    registration_.emplace(services_.active, [weak = weak_from_this(), executor = ws_.get_executor()] {
      asio::post(executor, [weak] {
        if (auto c = weak.lock()) c->end_for_drain();
      });
    });
  }

  // The configured agent, connecting now (not pre-warmed).
  std::unique_ptr<agent> fresh_agent() {
    switch (config_.mode()) {
      case app::agent_mode::pipeline:
        return make_pipeline_agent(ws_.get_executor(), *this, services_.pipeline, call_sid_);
      case app::agent_mode::elevenlabs_agent:
        return elevenlabs::make_agent(ws_.get_executor(), *this, services_.agent, start_);
      case app::agent_mode::local:
        break;
    }
    if (config_.local_agent == app::local_agent_kind::echo)
      return std::make_unique<local_agent>(ws_.get_executor(), *this, services_.greeting_mulaw, call_sid_);
    return std::make_unique<voicemail_agent>(ws_.get_executor(), *this, services_.local_voicemail, call_sid_);
  }

  void on_media(std::string_view payload) {
    if (!started_) return refuse(websocket::close_code::policy_error, "before_start", "media before start");
    ++frames_in_;
    const auto bytes = util::base64_decoded_size(payload);
    bytes_in_ += bytes;
    metrics().frames_from_caller.inc();
    metrics().bytes_from_caller.inc(bytes);
    if (frames_in_ % media_log_every == 0)
      log(log_level::debug, "media", {{"call_sid", call_sid_}, {"frames", frames_in_}, {"bytes", bytes_in_}});
    if (recorder_) {
      if (auto audio = util::base64_decode(payload)) recorder_->caller_audio(*audio);
    }
    agent_->on_caller_audio(payload);
  }

  asio::awaitable<void> write_loop() {
    while (auto item = co_await out_.pop()) {
      if (auto* audio = std::get_if<caller_audio>(&*item)) {
        dequeued(audio->payload.size());
        *item = media_text(*audio);
      } else if (auto* text = std::get_if<std::string>(&*item)) {
        dequeued(text->size());
      }
      if (auto* text = std::get_if<std::string>(&*item)) {
        // Bounded by the write watchdog, which closes the socket under a write pending too long. (Here, not
        // in a coroutine of its own: that would be a frame per frame.)
        ws_.text(true);
        write_started_ = std::chrono::steady_clock::now();
        auto [ec, n] = co_await ws_.async_write(asio::buffer(*text), use_tuple);
        write_started_.reset();
        util::recycle_text(std::move(*text));
        if (ec) {
          if (end_reason_.empty()) end_reason_ = write_timed_out_ ? "write timeout" : "write error";
          log(log_level::warn, "twilio stream write failed",
              {{"call_sid", call_sid_}, {"reason", write_timed_out_ ? "write timeout" : ec.message()}});
          close_socket();
          break;
        }
      } else {
        auto& close = std::get<close_request>(*item);
        co_await ws_.async_close(websocket::close_reason(close.code, close.reason), use_tuple);
        break;
      }
    }
    out_.close();
    writer_done_ = true;
    timer_.cancel();  // ends the watchdog
  }

  // One timer per call watches the socket both ways, twice per timeout (the smaller of the write and idle
  // timeouts), and finds each condition within 1 to 1.5 times its timeout:
  //  - a peer that stops reading would hold a write forever: a write pending for the write timeout drops it;
  //  - a caller silent at a look for half the interval gets a ping (Twilio sends media every 20 ms, even in
  //    silence, so this is rare), and its pong counts as news; silent for the whole idle timeout, it is
  //    dropped. Beast's own idle timer would do this too, but it is re-armed at every read: cancelled, its
  //    handler run, armed again, 50 times a second per call.
  // A plain handler, not a coroutine: it needs no frame of its own. It holds the call until the writer ends
  // and cancels it.
  std::chrono::steady_clock::duration watch_interval() const {
    return std::min(config_.write_timeout, config_.twilio_idle_timeout) / 2;
  }
  void arm_watchdog() {
    timer_.expires_after(watch_interval());
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->writer_done_) return;
      self->watch(std::chrono::steady_clock::now());
      self->arm_watchdog();
    });
  }

  void watch(std::chrono::steady_clock::time_point now) {
    if (write_started_ && now - *write_started_ >= config_.write_timeout) {
      write_timed_out_ = true;
      limits_.hit("write_timeout", call_sid_);
      return close_socket();  // fails the write (and wakes the reader)
    }
    if (closing_) return;  // the close handshake has its own timeout (the WebSocket's)
    const auto quiet = now - last_heard_;
    if (quiet >= config_.twilio_idle_timeout) {
      idle_timed_out_ = true;
      limits_.hit("twilio_idle_timeout", call_sid_);
      return close_socket();
    }
    if (quiet >= watch_interval() / 2 && !ping_pending_) {
      ping_pending_ = true;
      ws_.async_ping({}, [self = shared_from_this()](const beast::error_code&) { self->ping_pending_ = false; });
    }
  }

  void close_socket() {
    closing_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
  }

  asio::awaitable<void> agent_loop() {
    asio::steady_timer deadline(ws_.get_executor());
    deadline.expires_after(config_.stream_auth_timeout);
    auto first = co_await (starts_.pop() || deadline.async_wait(use_tuple));
    if (first.index() == 1) {
      if (!started_) {
        limits_.hit("stream_auth_timeout", call_sid_);
        refuse(websocket::close_code::policy_error, "no_start_in_time", "no authenticated start in time");
      }
      co_return;
    }
    if (!std::get<0>(first)) co_return;  // the socket closed before `start`
    const auto first_attempt = std::chrono::steady_clock::now();
    agent_retry_policy retry;
    auto end = co_await agent_->run();
    while (!caller_gone_ && !closing_) {
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - first_attempt);
      const auto wait = retry.after(end, elapsed);
      if (!wait) break;
      // A fresh connection (and a fresh signed URL), made now so that the caller's audio queues for it.
      agent_->describe(record_);
      const bool busy = end == agent_end::rate_limited;
      if (busy) metrics().agent_retries.inc("rate_limited");
      else metrics().agent_retries.inc("unreachable");
      log(log_level::warn, busy ? "agent busy (429): trying again after a backoff" : "agent unreachable: trying once more",
          {{"call_sid", call_sid_}, {"wait_ms", wait->count()}});
      agent_ = fresh_agent();
      if (wait->count() > 0) {
        asio::steady_timer backoff(ws_.get_executor(), *wait);
        co_await backoff.async_wait(use_tuple);
        if (caller_gone_ || closing_) break;
      }
      end = co_await agent_->run();
    }
    if (end != agent_end::served && !caller_gone_ && !closing_) {
      // Never dead air: the fallback prompt, the tone, and the caller's message.
      agent_->describe(record_);
      const char* why = end == agent_end::failed_mid_call ? "failed_mid_call"
                        : end == agent_end::refused     ? "refused"
                        : end == agent_end::rate_limited ? "rate_limited"
                                                         : "unreachable";
      metrics().fallbacks.inc(why);
      log(log_level::warn, "agent failed the caller: fallback prompt and voicemail", {{"call_sid", call_sid_}, {"reason", why}});
      clear_audio();  // a failed agent's queued audio would delay the prompt
      agent_ = std::make_unique<voicemail_agent>(ws_.get_executor(), *this, services_.fallback, call_sid_);
      end = co_await agent_->run();
    }
    record_.outcome = end == agent_end::served ? records::outcome::agent : records::outcome::agent_failed;
    agent_->describe(record_);
    request_close(websocket::close_code::normal, end == agent_end::served ? "call ended" : "agent unavailable");
  }

  void save_record(const std::string& outcome) {
    record_.outcome = outcome;
    record_.ended = std::chrono::system_clock::now();
    if (end_reason_.size() > 200) end_reason_.resize(200);
    record_.end_reason = end_reason_;
    if (recorder_) {
      recorder_->finish();
      if (recorder_->file().bytes() > 0) record_.recording_path = recorder_->file().path().string();
    }
    // Through the disk thread, behind this call's files: the record is stored once its audio is durable.
    asio::post(services_.disk, [&records = services_.records, record = std::move(record_)]() mutable {
      records.submit(std::move(record));
    });
  }

  ws_stream& ws_;
  stream_services& services_;
  const app::config& config_;
  upgrade_auth auth_;
  pending_streams::ticket pending_;          // until `start` authenticates
  std::optional<call_registration> registration_;  // from then on
  message_queue<outbound_item> out_;
  message_queue<bool> starts_;
  asio::steady_timer timer_;  // the write watchdog's
  std::unique_ptr<agent> agent_;
  twilio::start_message start_;  // for a second connection attempt
  records::call_record record_;
  std::optional<call_recorder> recorder_;  // RECORD_CALLS
  limit_log limits_;
  std::chrono::steady_clock::time_point began_;
  std::string call_sid_, stream_sid_, end_reason_;
  bool authenticated_ = false;  // `start` proved itself (the record may be written)
  bool started_ = false;
  bool caller_gone_ = false;
  bool closing_ = false;
  bool transferring_ = false;
  bool refused_ = false;
  bool protocol_violated_ = false;
  bool writer_done_ = false;
  bool write_timed_out_ = false;
  bool idle_timed_out_ = false;
  bool ping_pending_ = false;
  std::optional<std::chrono::steady_clock::time_point> write_started_;  // of the write in progress
  std::chrono::steady_clock::time_point last_heard_;                    // the caller's last message or control frame
  std::size_t queued_bytes_ = 0;
  std::uint64_t frames_in_ = 0, bytes_in_ = 0, frames_out_ = 0, dropped_out_ = 0;
};

}  // namespace

std::optional<upgrade_auth> check_upgrade(const http::request<http::string_body>& request, const app::config& config) {
  auto it = request.find("X-Twilio-Signature");
  if (it == request.end()) return upgrade_auth::none;
  // Twilio signs the wss:// URL exactly as written in the TwiML; its docs say to also try it with a '/'.
  const std::string url = config.stream_url();
  const bool valid = twilio::validate_signature(config.twilio_auth_token, it->value(), url, {}) ||
                     twilio::validate_signature(config.twilio_auth_token, it->value(), url + "/", {});
  return valid ? std::optional(upgrade_auth::twilio_signature) : std::nullopt;
}

asio::awaitable<void> serve_twilio_stream(beast::tcp_stream stream, http::request<http::string_body> upgrade,
                                          upgrade_auth auth, pending_streams::ticket pending, stream_services& services) {
  const auto& config = services.config;
  // The WebSocket's own timer bounds the handshake and the close; idle reads are the call's watchdog's. The
  // basic_stream (its timers) and, after the handshake, the upgrade request are dropped: this frame lives as
  // long as the call.
  ws_stream ws(beast::tcp_stream(std::move(stream)).release_socket());
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = config.http_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  ws.read_message_max(std::numeric_limits<std::size_t>::max());  // MAX_WS_MESSAGE_BYTES: the read loop's
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "voicebridge"); }));
  auto [ec] = co_await ws.async_accept(upgrade, use_tuple);
  upgrade = {};
  if (ec) {
    if (ec == beast::error::timeout) metrics().limit_hits.inc("handshake_timeout");
    log(log_level::warn, "twilio stream handshake failed", {{"error", ec.message()}});
    co_return;
  }
  log(log_level::debug, "twilio stream accepted", {{"auth", auth == upgrade_auth::twilio_signature ? "signature" : "pending"}});
  auto call = std::make_shared<twilio_call>(ws, auth, std::move(pending), services);
  struct finish_on_exit {  // also when run() throws
    twilio_call& call;
    ~finish_on_exit() { call.finish(); }
  } guard{*call};
  co_await call->run();
}

}  // namespace voicebridge::call
