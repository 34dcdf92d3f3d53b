#include "elevenlabs/agent_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <map>
#include <mutex>

#include "app/report_escape.hpp"
#include "call/limit_log.hpp"
#include "voicebridge/util/message_queue.hpp"
#include "call/strand_bridge.hpp"
#include "net/call_executor.hpp"
#include "net/client.hpp"
#include "util/overloaded.hpp"
#include "util/recycled_text.hpp"
#include "elevenlabs/transcoder.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/elevenlabs/agent_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"
#include "voicebridge/twilio/twiml.hpp"

namespace voicebridge::elevenlabs {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using app::log;
using app::log_level;
using app::metrics;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view goodbye_mark = "agent-goodbye";
// An audio event of 20 ms of mu-law is about 300 bytes: reading in steps of 512 keeps the read buffer near
// the messages' size (larger chunks grow it as needed).
constexpr std::size_t read_step = 512;

using plain_ws = net::plain_websocket;
using tls_ws = net::tls_websocket;

// What the pre-warm pool and an adopting call need of a conversation, whatever its transport.
class session : public call::agent, public std::enable_shared_from_this<session> {
 public:
  // Binds the conversation to its caller (at construction, or when a call adopts a pre-warmed one); the
  // agent audio that arrived before is played at once.
  virtual void attach(call::caller_link& caller, std::shared_ptr<call::caller_link> keepalive) = 0;
  virtual bool connected() const = 0;
  // Pre-warm entry point: connect now and serve the agent's first messages before any caller is attached.
  // `on_result(connected)` once connecting succeeded or failed; `on_end()` when the conversation is over.
  virtual asio::awaitable<void> prewarm(std::function<void(bool)> on_result, std::function<bool()> expire,
                                        std::function<void()> on_end) = 0;
  virtual void close() = 0;  // end with 1000 (expiry, shutdown)
};

// One conversation over ws:// (local stand-ins) or wss:// (ElevenLabs), the same code for both.
template <class Stream>
class conversation final : public session {
  static constexpr bool tls = std::is_same_v<Stream, tls_ws>;

 public:
  template <class... TlsContext>
  conversation(const asio::any_io_executor& executor, const agent_settings& settings, std::string call_sid,
               dynamic_variables variables, TlsContext&... context)
      : executor_(executor),
        settings_(settings),
        call_sid_(std::move(call_sid)),
        ws_(executor, context...),
        out_(executor, settings.max_buffered_messages),
        goodbye_(executor),
        done_(executor, asio::steady_timer::time_point::max()),
        adopt_deadline_(executor) {
    init_.dynamic_variables = std::move(variables);
    init_.config_override_json = settings.config_override_json;
  }

  void attach(call::caller_link& caller, std::shared_ptr<call::caller_link> keepalive) override {
    caller_ = &caller;
    caller_keepalive_ = std::move(keepalive);
    attached_at_ = std::chrono::steady_clock::now();
    adopt_deadline_.cancel();
    if (prewarmed_) log(log_level::info, "pre-warmed agent adopted",
                        {{"call_sid", call_sid_}, {"conversation_id", conversation_id_},
                         {"early_audio_chunks", early_audio_.size()}});
    for (auto& [audio, event_id] : early_audio_) deliver_audio(audio, event_id);
    early_audio_ = {};  // gone for good: give the memory back
  }
  bool connected() const override { return connected_; }
  void close() override {
    caller_gone_ = true;
    out_.close();
    goodbye_.cancel();
  }

  void on_caller_audio(std::string_view payload) override {
    // Until the metadata tells the agent's input format, caller audio waits here, in order.
    if (!ready_) {
      if (pending_.size() < settings_.max_buffered_messages) pending_.emplace_back(payload);
      else limits_.hit("agent_buffer", call_sid_);
      return;
    }
    forward_caller_audio(payload);
  }
  void on_dtmf(char digit) override {
    const std::string text = std::string("The caller pressed the key ") + digit + " on the phone keypad.";
    out_.push(settings_.dtmf_as_user_message ? serialize_user_message(text) : serialize_contextual_update(text));
  }
  void on_mark(std::string_view name) override {
    if (name == goodbye_mark) goodbye_.cancel();
  }
  void forward_caller_audio(std::string_view payload) {
    std::string text = util::recycled_text();  // the frame's message, in a string the writer gave back
    if (transcoder_) serialize_user_audio(text, transcoder_->to_agent(payload));
    else serialize_user_audio(text, payload);  // mu-law passes through untouched
    if (out_.push(std::move(text))) metrics().frames_to_agent.inc();
    else if (!out_.closed()) limits_.hit("agent_buffer", call_sid_);
  }

  void on_caller_hangup() override { close(); }  // the writer then closes the agent socket with 1000

  asio::awaitable<call::agent_end> run() override {
    bool connected = false;
    if (prewarmed_) {  // adopted: the conversation has been running since the webhook
      while (!ended_) {
        auto [ec] = co_await done_.async_wait(use_tuple);
        (void)ec;  // cancelled when it ended
      }
      connected = connected_;
    } else {
      connected = co_await serve(nullptr);
    }
    if (!connected) co_return refused_ ? call::agent_end::refused : rate_limited_ ? call::agent_end::rate_limited
                                                                                   : call::agent_end::unreachable;
    if (caller_gone_) co_return call::agent_end::served;
    if (close_code_ != static_cast<int>(websocket::close_code::normal)) {
      if (first_audio_logged_) co_return call::agent_end::failed_mid_call;
      // It closed before the caller heard anything: a policy close or a quota error will not pass.
      const bool permanent = close_code_ == static_cast<int>(websocket::close_code::policy_error) || quota_error_;
      co_return permanent ? call::agent_end::refused : call::agent_end::unreachable;
    }
    // The agent said goodbye (end_call): let it finish playing, then end the Twilio leg.
    caller_->send_mark(std::string(goodbye_mark));
    goodbye_.expires_after(settings_.goodbye_cap);
    co_await goodbye_.async_wait(use_tuple);
    caller_->hang_up();
    co_return call::agent_end::served;
  }

  void describe(records::call_record& record) const override {
    if (!conversation_id_.empty()) record.conversation_id = conversation_id_;
    if (first_audio_ms_) record.first_agent_audio_ms = first_audio_ms_;
    record.barge_ins += barge_ins_;
    if (connected_) record.agent_close_codes.push_back(close_code_);
    record.transcript.insert(record.transcript.end(), facts_.transcript.begin(), facts_.transcript.end());
  }

  asio::awaitable<void> prewarm(std::function<void(bool)> on_result, std::function<bool()> expire,
                                std::function<void()> on_end) override {
    prewarmed_ = true;
    // Not adopted in time (the stream went to another instance, or never came): close with 1000. A plain
    // handler rather than a coroutine beside this one, which would cost two frames and a parallel group.
    adopt_deadline_.expires_after(settings_.prewarm_timeout);
    adopt_deadline_.async_wait([alive = weak_from_this(), expire = std::move(expire)](const boost::system::error_code& ec) {
      auto self = alive.lock();
      if (ec || !self) return;
      auto& c = static_cast<conversation&>(*self);
      if (c.caller_ || c.ended_ || !expire()) return;
      metrics().prewarms.inc("expired");
      log(log_level::info, "pre-warmed agent expired: no stream came", {{"call_sid", c.call_sid_},
                                                                         {"conversation_id", c.conversation_id_}});
      c.close();
    });
    co_await serve(&on_result);
    on_end();
    ended_ = true;
    done_.cancel();
    adopt_deadline_.cancel();
  }

 private:
  // The whole conversation: connect, then read and write until either side ends it. False if it never
  // connected. (A pointer, not a defaulted std::function. GCC 12: docs/gcc12-coroutines.md)
  asio::awaitable<bool> serve(const std::function<void(bool)>* on_result) {
    const auto began = std::chrono::steady_clock::now();
    connected_ = co_await connect();
    if (on_result) (*on_result)(connected_);
    if (!connected_) co_return false;
    const auto connect_time = std::chrono::steady_clock::now() - began;
    metrics().agent_connect_seconds.observe(connect_time);
    log(log_level::info, "agent connected",
        {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}, {"prewarm", prewarmed_ ? "true" : "false"},
         {"connect_ms", std::chrono::duration_cast<std::chrono::milliseconds>(connect_time).count()}});
    // The reader and the writer: as `&&` does (the first exception cancels the other and is rethrown), without
    // the frame `&&` adds.
    auto [order, read_error, write_error] =
        co_await asio::experimental::make_parallel_group(asio::co_spawn(executor_, reader(), asio::deferred),
                                                         asio::co_spawn(executor_, writer(), asio::deferred))
            .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    (void)order;
    if (read_error) std::rethrow_exception(read_error);
    if (write_error) std::rethrow_exception(write_error);
    metrics().agent_close_codes.inc(close_code_ < 0 ? "none" : std::to_string(close_code_));
    log(log_level::info, "agent conversation ended",
        {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}, {"close_code", close_code_},
         {"close_reason", close_reason_}, {"barge_ins", barge_ins_}});
    co_return true;
  }

  // TCP connect, WebSocket handshake, initiation data, then the metadata, all bounded by connect_timeout.
  asio::awaitable<bool> connect() {
    auto url = boost::urls::parse_uri(settings_.base_url);
    const std::string host(url->host());
    const std::string port = url->has_port() ? std::string(url->port()) : tls ? "443" : "80";
    asio::steady_timer deadline(executor_);
    deadline.expires_after(settings_.connect_timeout);
    auto result = co_await (open(host, port) || deadline.async_wait(use_tuple));
    if (result.index() == 1) {
      limits_.hit("agent_connect_timeout", call_sid_);
      co_return fail("connect timeout");
    }
    co_return std::get<0>(result);
  }

  // A public agent is reached directly; a private one through a signed URL fetched with the API key,
  // one per call (ElevenLabs API reference, "Get signed URL": valid for 15 minutes to start one conversation).
  // The signed URL is a credential: it is never logged.
  asio::awaitable<bool> open(const std::string& host, const std::string& port) {
    std::string target = "/v1/convai/conversation?agent_id=" + settings_.agent_id;
    if (settings_.api_key.empty()) {
      const bool ok = co_await handshake(host, port, target);
      co_return ok;
    }
    auto signed_url = co_await fetch_signed_url(host, port);
    if (!signed_url) co_return false;
    auto url = boost::urls::parse_uri(*signed_url);
    if (!url || url->scheme() != (tls ? "wss" : "ws") || url->host().empty())
      co_return fail("signed URL response is not a " + std::string(tls ? "wss" : "ws") + " URL");
    // Named locals, not temporaries, as coroutine arguments (GCC 12: docs/gcc12-coroutines.md).
    target = std::string(url->encoded_path()) + "?" + std::string(url->encoded_query());
    const std::string signed_host(url->host());
    const std::string signed_port = url->has_port() ? std::string(url->port()) : port;
    const bool ok = co_await handshake(signed_host, signed_port, target);
    co_return ok;
  }

  asio::awaitable<std::optional<std::string>> fetch_signed_url(const std::string& host, const std::string& port) {
    beast::tcp_stream tcp(executor_);
    if (auto error = co_await net::connect_tcp(tcp, host, port); !error.empty()) co_return fail_signed(error);
    if constexpr (tls) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *settings_.tls);
      if (auto ec = co_await net::tls_client_handshake(stream, host); ec) co_return fail_signed("TLS handshake: " + ec.message());
      auto url = co_await get_signed_url(stream, host);
      co_return url;
    } else {
      auto url = co_await get_signed_url(tcp, host);
      co_return url;
    }
  }

  template <class HttpStream>
  asio::awaitable<std::optional<std::string>> get_signed_url(HttpStream& stream, const std::string& host) {
    namespace http = beast::http;
    http::request<http::empty_body> req{http::verb::get,
                                        "/v1/convai/conversation/get-signed-url?agent_id=" + settings_.agent_id, 11};
    req.set(http::field::host, host);
    req.set("xi-api-key", settings_.api_key);
    if (auto [ec, n] = co_await http::async_write(stream, req, use_tuple); ec) co_return fail_signed("send: " + ec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple); ec)
      co_return fail_signed("read: " + ec.message());
    const auto& res = parser.get();
    if (res.result_int() != 200) {
      refused_ = res.result_int() == 401 || res.result_int() == 403 || res.result_int() == 404;  // key or agent wrong
      rate_limited_ = res.result_int() == 429;
      co_return fail_signed("refused: HTTP " + std::to_string(res.result_int()));
    }
    boost::json::error_code jec;
    auto body = boost::json::parse(res.body(), jec);
    const auto* url = !jec && body.is_object() ? body.get_object().if_contains("signed_url") : nullptr;
    if (!url || !url->is_string()) co_return fail_signed("response has no signed_url");
    co_return std::string(url->get_string());
  }

  std::optional<std::string> fail_signed(const std::string& reason) {
    fail("signed URL " + reason);
    return std::nullopt;
  }

  bool fail(std::string reason) {
    log(log_level::error, "agent unavailable", {{"call_sid", call_sid_}, {"reason", reason}});
    return false;
  }

  asio::awaitable<bool> handshake(const std::string& host, const std::string& port, const std::string& target) {
    if (auto error = co_await net::connect_tcp(beast::get_lowest_layer(ws_), host, port); !error.empty()) co_return fail(error);
    if constexpr (tls) {
      if (auto ec = co_await net::tls_client_handshake(ws_.next_layer(), host); ec) co_return fail("TLS handshake: " + ec.message());
    }
    net::configure_service_websocket(ws_, settings_.idle_timeout);
    // The target of a signed URL carries its signature: the log's redaction masks it by name.
    log(log_level::debug, "agent handshake", {{"call_sid", call_sid_}, {"host", host}, {"port", port}, {"target", target}});
    websocket::response_type res;
    auto [hec] = co_await ws_.async_handshake(res, host + ":" + port, target, use_tuple);
    if (hec) {
      // 4xx other than 429 (concurrency limit) will not pass by trying again.
      const unsigned status = res.result_int();
      refused_ = status >= 400 && status < 500 && status != 429;
      rate_limited_ = status == 429;
      co_return fail("upgrade refused: HTTP " + std::to_string(status));
    }
    ws_.text(true);
    auto [wec, wn] = co_await ws_.async_write(asio::buffer(serialize_initiation(init_)), use_tuple);
    if (wec) co_return fail("send initiation: " + wec.message());
    beast::flat_buffer buffer;
    auto [rec2, rn] = co_await ws_.async_read(buffer, use_tuple);
    if (rec2) {
      if (rec2 == websocket::error::closed) {
        refused_ = ws_.reason().code == websocket::close_code::policy_error ||
                   std::string_view(ws_.reason().reason.c_str()).find("quota") != std::string_view::npos;
        co_return fail("closed before metadata: " + std::to_string(ws_.reason().code) + " " + std::string(ws_.reason().reason.c_str()));
      }
      co_return fail("read metadata: " + rec2.message());
    }
    auto first = parse_server_message(beast::buffers_to_string(buffer.data()));
    auto* meta = first ? std::get_if<initiation_metadata>(&*first) : nullptr;
    if (!meta) co_return fail("first message is not conversation_initiation_metadata");
    conversation_id_ = meta->conversation_id;
    if (!meta->agent_output.is_twilio_native() || !meta->user_input.is_twilio_native()) {
      if (!meta->agent_output.is_twilio_native() && meta->agent_output.encoding != audio_format::kind::pcm)
        co_return fail("unsupported agent output format");
      transcoder_ = std::make_unique<transcoder>(meta->user_input, meta->agent_output);
      log(log_level::warn, "agent audio is not ulaw_8000: transcoding; set the agent's input and output to mu-law 8000 Hz",
          {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}});
    }
    ready_ = true;
    for (const auto& payload : pending_) forward_caller_audio(payload);
    pending_ = {};
    co_return true;
  }

  asio::awaitable<void> reader() {
    beast::flat_buffer buffer;
    for (;;) {
      beast::error_code ec;
      do {  // a message in steps of read_step: async_read would make room for 1536 bytes first
        auto [step_ec, n] = co_await ws_.async_read_some(buffer, read_step, use_tuple);
        ec = step_ec;
      } while (!ec && !ws_.is_message_done());
      if (ec) {
        if (caller_gone_) {
          close_reason_ = "caller hung up";
          close_code_ = static_cast<int>(websocket::close_code::normal);
        } else {
          if (ec == beast::error::timeout) idle_timed_out_ = true;
          if (idle_timed_out_) limits_.hit("agent_idle_timeout", call_sid_);
          close_code_ = ec == websocket::error::closed ? static_cast<int>(ws_.reason().code) : -1;
          close_reason_ = ec == websocket::error::closed ? std::string(ws_.reason().reason.c_str())
                          : idle_timed_out_              ? "agent silent past AGENT_IDLE_TIMEOUT_MS"
                                                         : ec.message();
        }
        break;
      }
      on_message({static_cast<const char*>(buffer.data().data()), buffer.size()});
      buffer.consume(buffer.size());
    }
    out_.close();
  }

  void on_message(std::string_view text) {
    // Audio, 50 times a second, is read in place; anything else, or audio in another form, through the DOM.
    if (const auto audio = read_audio_in_place(text)) return on_audio(audio->audio_base64, audio->event_id);
    auto parsed = parse_server_message_dom(text);
    if (!parsed) {
      log(log_level::warn, "invalid agent message ignored", {{"call_sid", call_sid_}, {"error", parsed.error().message}});
      return;
    }
    std::visit(util::overloaded{
                   [&](audio_event& a) { on_audio(a.audio_base64, a.event_id); },
                   [&](interruption_event& i) {
                     filter_.on_interruption(i.event_id);
                     ++barge_ins_;
                     metrics().barge_ins.inc();
                     early_audio_.clear();
                     if (caller_) caller_->clear_audio();
                     log(log_level::info, "barge-in", {{"call_sid", call_sid_}, {"event_id", i.event_id}});
                   },
                   [&](ping_event& p) { out_.push(serialize_pong(p.event_id)); },
                   [&](client_tool_call& t) { on_tool_call(t); },
                   [&](agent_error& e) {
                     if (e.message.find("quota") != std::string::npos || e.error_type.find("quota") != std::string::npos)
                       quota_error_ = true;
                     log(log_level::error, "agent error",
                         {{"call_sid", call_sid_}, {"code", e.code.value_or(0)}, {"type", e.error_type}, {"message", e.message}});
                   },
                   [&](user_transcript& t) {
                     log(log_level::debug, "user transcript", {{"call_sid", call_sid_}, {"text", t.text}});
                     facts_.add_user_text(std::move(t.text), t.event_id);
                   },
                   [&](agent_response& r) {
                     log(log_level::debug, "agent response", {{"call_sid", call_sid_}, {"text", r.text}});
                     facts_.add_agent_text(std::move(r.text), r.event_id);
                   },
                   [&](agent_response_correction& c) { facts_.correct_agent_text(c.event_id, std::move(c.corrected)); },
                   [&](auto&) {},
               },
               *parsed);
  }

  void on_audio(std::string_view audio_base64, std::int64_t event_id) {
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

  // Client tools the gateway itself provides: end_call / hang_up (the agent closes next), and
  // transfer_to_number {"phone_number": "+1..."} (also "transfer_number" or "number"), done over Twilio's REST API.
  void on_tool_call(const client_tool_call& t) {
    if (t.tool_name == "end_call" || t.tool_name == "hang_up") {
      out_.push(serialize_tool_result(t.tool_call_id, "ok", false));
      return;
    }
    if (t.tool_name != "transfer_to_number") {
      out_.push(serialize_tool_result(t.tool_call_id, "unknown tool " + t.tool_name, true));
      return;
    }
    std::string number;
    boost::json::error_code ec;
    auto parameters = boost::json::parse(t.parameters_json, ec);
    for (const char* key : {"phone_number", "transfer_number", "number"}) {
      const auto* v = !ec && parameters.is_object() ? parameters.get_object().if_contains(key) : nullptr;
      if (v && v->is_string()) number = std::string(v->get_string());
    }
    if (!twilio::is_e164(number) || !caller_) {
      out_.push(serialize_tool_result(t.tool_call_id, "transfer_to_number needs phone_number in E.164 (+15551234567)", true));
      return;
    }
    log(log_level::info, "agent asked for a transfer", {{"call_sid", call_sid_}, {"number", number}});
    caller_->transfer(number);
    out_.push(serialize_tool_result(t.tool_call_id, "transferring the caller", false));
  }

  void deliver_audio(std::string_view audio_base64, std::int64_t event_id) {
    if (!first_audio_logged_) {
      first_audio_logged_ = true;
      const auto now = std::chrono::steady_clock::now();
      metrics().first_agent_audio_seconds.observe(now - attached_at_);
      first_audio_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(now - attached_at_).count();
      if (prewarmed_) metrics().first_agent_audio_from_webhook_seconds.observe(now - created_);
      log(log_level::info, "first agent audio",
          {{"call_sid", call_sid_}, {"conversation_id", conversation_id_},
           {"ms_since_start", std::chrono::duration_cast<std::chrono::milliseconds>(now - attached_at_).count()}});
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

  asio::awaitable<void> writer() {
    while (auto text = co_await out_.pop()) {
      auto [ec, n] = co_await ws_.async_write(asio::buffer(*text), use_tuple);
      // Beast reports its idle timeout to whichever operation looks first: with caller audio flowing that is
      // often this write, and the reader then sees only an aborted read.
      if (ec == beast::error::timeout) idle_timed_out_ = true;
      if (ec) break;
      util::recycle_text(std::move(*text));
    }
    if (ws_.is_open()) co_await ws_.async_close(websocket::close_code::normal, use_tuple);
  }

  asio::any_io_executor executor_;
  call::caller_link* caller_ = nullptr;  // null until attached (a pre-warmed conversation waiting for its call)
  std::shared_ptr<call::caller_link> caller_keepalive_;
  const agent_settings& settings_;
  std::string call_sid_, conversation_id_, close_reason_;
  Stream ws_;
  util::message_queue<std::string> out_;
  asio::steady_timer goodbye_;
  asio::steady_timer done_;            // wakes run() when a pre-warmed conversation ends
  asio::steady_timer adopt_deadline_;  // a pre-warmed conversation's wait for its call
  // Vectors, not deques: both are drained once and then stay empty, and an empty std::deque holds 576 bytes.
  std::vector<std::pair<std::string, std::int64_t>> early_audio_;  // agent audio before the call adopted us
  initiation_client_data init_;
  interruption_filter filter_;
  std::unique_ptr<transcoder> transcoder_;  // only when the agent is not set to ulaw_8000 (not inline: most calls have none)
  std::vector<std::string> pending_;      // caller audio before the agent is ready
  bool ready_ = false;
  int close_code_ = -1;
  std::uint64_t barge_ins_ = 0;
  call::limit_log limits_;
  bool caller_gone_ = false;
  bool first_audio_logged_ = false;
  bool prewarmed_ = false, connected_ = false, ended_ = false;
  bool refused_ = false;      // failed in a way that trying again will not fix (4xx, 1008, quota)
  bool rate_limited_ = false;  // answered 429: worth trying again after a backoff
  bool idle_timed_out_ = false;  // nothing from the agent for AGENT_IDLE_TIMEOUT_MS
  bool quota_error_ = false;  // an error event about quota arrived
  records::call_record facts_;  // transcript lines, for the call record
  std::optional<std::int64_t> first_audio_ms_;
  std::optional<std::int64_t> last_marked_turn_;
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point attached_at_ = created_;
};

// One conversation of the configured transport, not yet attached to a caller.
std::unique_ptr<session> make_session(const asio::any_io_executor& executor, const agent_settings& settings,
                                      std::string call_sid, dynamic_variables variables) {
  if (settings.base_url.starts_with("https://"))
    return std::make_unique<conversation<tls_ws>>(executor, settings, std::move(call_sid), std::move(variables),
                                                  *settings.tls);
  return std::make_unique<conversation<plain_ws>>(executor, settings, std::move(call_sid), std::move(variables));
}

// A pre-warmed conversation adopted by a call: it runs on its own strand, the call on another.
class adopted_agent final : public call::agent {
 public:
  adopted_agent(std::shared_ptr<session> session, asio::any_io_executor session_executor,
                const asio::any_io_executor& call_executor, std::weak_ptr<call::caller_link> caller)
      : bridge_(session, session_executor, session_executor == call_executor), session_(std::move(session)) {
    auto link = std::make_shared<call::caller_on_strand>(call_executor, std::move(caller), bridge_.direct());
    asio::dispatch(session_executor, [s = session_, link] { s->attach(*link, link); });
  }

  void on_caller_audio(std::string_view payload) override { bridge_.on_caller_audio(payload); }
  void on_dtmf(char digit) override { bridge_.on_dtmf(digit); }
  void on_mark(std::string_view name) override { bridge_.on_mark(name); }
  void on_caller_hangup() override { bridge_.on_caller_hangup(); }

  asio::awaitable<call::agent_end> run() override {
    // The conversation's run() on its own strand; this coroutine resumes on the call's. Once it returned,
    // the conversation does nothing more and may be read from here.
    // (With one io thread both are the io_context: no hop, and no co_spawn frames.)
    call::agent_end end{};
    if (bridge_.direct()) {
      end = co_await session_->run();
    } else {
      auto there = run_session(session_);
      end = co_await asio::co_spawn(bridge_.executor(), std::move(there), asio::use_awaitable);
    }
    if (end == call::agent_end::unreachable && !session_->connected()) metrics().prewarms.inc("failed_after_adoption");
    co_return end;
  }
  void describe(records::call_record& record) const override { session_->describe(record); }

 private:
  static asio::awaitable<call::agent_end> run_session(std::shared_ptr<session> session) {
    const auto end = co_await session->run();
    co_return end;
  }

  call::agent_on_strand bridge_;
  std::shared_ptr<session> session_;
};

}  // namespace

dynamic_variables variables_from_parameters(const std::vector<std::pair<std::string, std::string>>& parameters) {
  dynamic_variables variables;
  for (const auto& [name, value] : parameters) {
    if (name == twilio::stream_token_parameter) continue;
    variables.emplace_back(name == "from" ? "caller_number" : name == "to" ? "called_number" : name, value);
  }
  return variables;
}

std::unique_ptr<call::agent> make_agent(const asio::any_io_executor& executor, call::caller_link& caller,
                                        const agent_settings& settings, const twilio::start_message& start) {
  auto result = make_session(executor, settings, start.call_sid, variables_from_parameters(start.custom_parameters));
  result->attach(caller, nullptr);
  return result;
}

struct prewarm_pool::impl {
  struct entry {
    std::shared_ptr<session> conversation;
    asio::any_io_executor executor;
  };
  asio::io_context& io;
  const agent_settings& settings;
  unsigned io_threads;
  mutable std::mutex mutex;
  std::map<std::string, entry> pending;

  impl(asio::io_context& io_, const agent_settings& settings_, unsigned io_threads_)
      : io(io_), settings(settings_), io_threads(io_threads_) {}

  // Removes this call's entry if it still holds `conversation`; false when a call took it first.
  bool remove(const std::string& call_sid, const session* conversation) {
    std::lock_guard lock(mutex);
    auto it = pending.find(call_sid);
    if (it == pending.end() || it->second.conversation.get() != conversation) return false;
    pending.erase(it);
    return true;
  }
};

prewarm_pool::prewarm_pool(asio::io_context& io, const agent_settings& settings, unsigned io_threads)
    : impl_(std::make_shared<impl>(io, settings, io_threads)) {}

prewarm_pool::~prewarm_pool() {
  std::map<std::string, impl::entry> left;
  {
    std::lock_guard lock(impl_->mutex);
    left.swap(impl_->pending);
  }
  for (auto& [sid, e] : left) asio::dispatch(e.executor, [c = e.conversation] { c->close(); });
}

void prewarm_pool::open(const std::string& call_sid, dynamic_variables variables) {
  auto executor = net::call_executor(impl_->io, impl_->io_threads);
  std::shared_ptr<session> conversation;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->pending.contains(call_sid)) {
      log(log_level::info, "webhook retried: pre-warmed agent reused", {{"call_sid", call_sid}});
      return;
    }
    conversation = make_session(executor, impl_->settings, call_sid, std::move(variables));
    impl_->pending.emplace(call_sid, impl::entry{conversation, executor});
  }
  metrics().prewarms.inc("opened");
  const session* key = conversation.get();
  std::weak_ptr<impl> pool = impl_;
  auto forget = [pool, call_sid, key] {
    auto p = pool.lock();
    return p && p->remove(call_sid, key);
  };
  std::function<void(bool)> on_result = [forget](bool connected) {
    // A failed pre-warm leaves nothing behind: the stream's `start` connects as usual.
    if (!connected && forget()) metrics().prewarms.inc("failed");
  };
  std::function<void()> on_end = [forget] { forget(); };
  // The completion handler holds the conversation until it ends.
  asio::co_spawn(executor, conversation->prewarm(std::move(on_result), forget, std::move(on_end)),
                 [conversation](std::exception_ptr e) { app::report_escape("prewarm")(e); });
}

std::unique_ptr<call::agent> prewarm_pool::adopt(const twilio::start_message& start,
                                                 const asio::any_io_executor& call_executor,
                                                 std::weak_ptr<call::caller_link> caller) {
  impl::entry found;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->pending.find(start.call_sid);
    if (it == impl_->pending.end()) {
      metrics().prewarms.inc("miss");
      return nullptr;
    }
    found = std::move(it->second);
    impl_->pending.erase(it);
  }
  metrics().prewarms.inc("hit");
  return std::make_unique<adopted_agent>(found.conversation, found.executor, call_executor, std::move(caller));
}

}  // namespace voicebridge::elevenlabs
