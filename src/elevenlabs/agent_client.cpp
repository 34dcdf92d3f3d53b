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

#include <deque>

#include "call/limit_log.hpp"
#include "call/message_queue.hpp"
#include "util/overloaded.hpp"
#include "elevenlabs/transcoder.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/elevenlabs/agent_messages.hpp"

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

using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// One conversation over ws:// (local stand-ins) or wss:// (ElevenLabs), the same code for both.
template <class Stream>
class conversation final : public call::agent {
  static constexpr bool tls = std::is_same_v<Stream, tls_ws>;

 public:
  template <class... TlsContext>
  conversation(const asio::any_io_executor& executor, call::caller_link& caller, const agent_settings& settings,
               const twilio::start_message& start, TlsContext&... context)
      : executor_(executor),
        caller_(caller),
        settings_(settings),
        call_sid_(start.call_sid),
        ws_(executor, context...),
        out_(executor, settings.max_buffered_messages),
        goodbye_(executor) {
    // Caller number, called number and call SID, plus every <Parameter> but the stream credential.
    for (const auto& [name, value] : start.custom_parameters) {
      if (name == "stream_token") continue;
      const std::string key = name == "from" ? "caller_number" : name == "to" ? "called_number" : name;
      init_.dynamic_variables.emplace_back(key, value);
    }
    init_.config_override_json = settings.config_override_json;
  }

  void on_caller_audio(const twilio::media_message& media) override {
    // Until the metadata tells the agent's input format, caller audio waits here, in order.
    if (!ready_) {
      if (pending_.size() < settings_.max_buffered_messages) pending_.push_back(media.payload);
      else limits_.hit("agent_buffer", call_sid_);
      return;
    }
    forward_caller_audio(media.payload);
  }
  void on_dtmf(char digit) override {
    const std::string text = std::string("The caller pressed the key ") + digit + " on the phone keypad.";
    out_.push(settings_.dtmf_as_user_message ? serialize_user_message(text) : serialize_contextual_update(text));
  }
  void on_mark(std::string_view name) override {
    if (name == goodbye_mark) goodbye_.cancel();
  }
  void forward_caller_audio(const std::string& payload) {
    const bool pushed = transcoder_ ? out_.push(serialize_user_audio(transcoder_->to_agent(payload)))
                                    : out_.push(serialize_user_audio(payload));  // mu-law passes through untouched
    if (pushed) metrics().frames_to_agent.inc();
    else if (!out_.closed()) limits_.hit("agent_buffer", call_sid_);
  }

  void on_caller_hangup() override {
    caller_gone_ = true;
    out_.close();  // the writer then closes the agent socket with 1000
    goodbye_.cancel();
  }

  asio::awaitable<bool> run() override {
    const auto began = std::chrono::steady_clock::now();
    if (!co_await connect()) co_return false;
    const auto connect_time = std::chrono::steady_clock::now() - began;
    metrics().agent_connect_seconds.observe(connect_time);
    log(log_level::info, "agent connected",
        {{"call_sid", call_sid_}, {"conversation_id", conversation_id_},
         {"connect_ms", std::chrono::duration_cast<std::chrono::milliseconds>(connect_time).count()}});
    co_await (reader() && writer());
    metrics().agent_close_codes.inc(close_code_ < 0 ? "none" : std::to_string(close_code_));
    log(log_level::info, "agent conversation ended",
        {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}, {"close_code", close_code_},
         {"close_reason", close_reason_}, {"barge_ins", barge_ins_}});
    if (caller_gone_) co_return true;
    if (close_code_ != static_cast<int>(websocket::close_code::normal)) co_return false;
    // The agent said goodbye (end_call): let it finish playing, then end the Twilio leg.
    caller_.send_mark(std::string(goodbye_mark));
    goodbye_.expires_after(settings_.goodbye_cap);
    co_await goodbye_.async_wait(use_tuple);
    caller_.hang_up();
    co_return true;
  }

 private:
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
  // one per call (elevenlabs.md §1.1). The signed URL is a credential: it is never logged.
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
    // Named locals, not temporaries, as coroutine arguments (GCC 12 mishandles temporaries in co_await).
    target = std::string(url->encoded_path()) + "?" + std::string(url->encoded_query());
    const std::string signed_host(url->host());
    const std::string signed_port = url->has_port() ? std::string(url->port()) : port;
    const bool ok = co_await handshake(signed_host, signed_port, target);
    co_return ok;
  }

  // Resolve and connect (Nagle off: audio frames are small); the reason on failure, empty on success.
  asio::awaitable<std::string> connect_tcp(beast::tcp_stream& stream, const std::string& host, const std::string& port) {
    tcp::resolver resolver(executor_);
    auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_tuple);
    if (rec) co_return "resolve: " + rec.message();
    if (auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple); cec) co_return "connect: " + cec.message();
    beast::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    co_return std::string();
  }

  asio::awaitable<std::optional<std::string>> fetch_signed_url(const std::string& host, const std::string& port) {
    beast::tcp_stream tcp(executor_);
    if (auto error = co_await connect_tcp(tcp, host, port); !error.empty()) co_return fail_signed(error);
    if constexpr (tls) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *settings_.tls);
      if (auto ec = co_await tls_handshake(stream, host); ec) co_return fail_signed("TLS handshake: " + ec.message());
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
    if (res.result_int() != 200) co_return fail_signed("refused: HTTP " + std::to_string(res.result_int()));
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

  // SNI, and the certificate must name the host we asked for (the chain is checked against the system
  // store, or SSL_CERT_FILE).
  template <class SslStream>
  asio::awaitable<beast::error_code> tls_handshake(SslStream& ssl, const std::string& host) {
    if (!SSL_set_tlsext_host_name(ssl.native_handle(), host.c_str())) co_return asio::ssl::error::stream_truncated;
    ssl.set_verify_callback(asio::ssl::host_name_verification(host));
    auto [ec] = co_await ssl.async_handshake(asio::ssl::stream_base::client, use_tuple);
    co_return ec;
  }

  bool fail(std::string reason) {
    log(log_level::error, "agent unavailable", {{"call_sid", call_sid_}, {"reason", reason}});
    return false;
  }

  asio::awaitable<bool> handshake(const std::string& host, const std::string& port, const std::string& target) {
    if (auto error = co_await connect_tcp(beast::get_lowest_layer(ws_), host, port); !error.empty()) co_return fail(error);
    if constexpr (tls) {
      if (auto ec = co_await tls_handshake(ws_.next_layer(), host); ec) co_return fail("TLS handshake: " + ec.message());
    }
    beast::get_lowest_layer(ws_).expires_never();
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
    timeouts.idle_timeout = settings_.idle_timeout;
    ws_.set_option(timeouts);
    ws_.read_message_max(16 << 20);  // the SDKs' limit; agent audio chunks can be large
    // The target of a signed URL carries its signature: the log's redaction masks it by name.
    log(log_level::debug, "agent handshake", {{"call_sid", call_sid_}, {"host", host}, {"port", port}, {"target", target}});
    websocket::response_type res;
    auto [hec] = co_await ws_.async_handshake(res, host + ":" + port, target, use_tuple);
    if (hec) co_return fail("upgrade refused: HTTP " + std::to_string(res.result_int()));
    ws_.text(true);
    auto [wec, wn] = co_await ws_.async_write(asio::buffer(serialize_initiation(init_)), use_tuple);
    if (wec) co_return fail("send initiation: " + wec.message());
    beast::flat_buffer buffer;
    auto [rec2, rn] = co_await ws_.async_read(buffer, use_tuple);
    if (rec2) {
      if (rec2 == websocket::error::closed)
        co_return fail("closed before metadata: " + std::to_string(ws_.reason().code) + " " + std::string(ws_.reason().reason.c_str()));
      co_return fail("read metadata: " + rec2.message());
    }
    auto first = parse_server_message(beast::buffers_to_string(buffer.data()));
    auto* meta = first ? std::get_if<initiation_metadata>(&*first) : nullptr;
    if (!meta) co_return fail("first message is not conversation_initiation_metadata");
    conversation_id_ = meta->conversation_id;
    if (!meta->agent_output.is_twilio_native() || !meta->user_input.is_twilio_native()) {
      if (!meta->agent_output.is_twilio_native() && meta->agent_output.encoding != audio_format::kind::pcm)
        co_return fail("unsupported agent output format");
      transcoder_.emplace(meta->user_input, meta->agent_output);
      log(log_level::warn, "agent audio is not ulaw_8000: transcoding; set the agent's input and output to mu-law 8000 Hz",
          {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}});
    }
    ready_ = true;
    for (const auto& payload : pending_) forward_caller_audio(payload);
    pending_.clear();
    co_return true;
  }

  asio::awaitable<void> reader() {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws_.async_read(buffer, use_tuple);
      if (ec) {
        if (caller_gone_) {
          close_reason_ = "caller hung up";
          close_code_ = static_cast<int>(websocket::close_code::normal);
        } else {
          if (ec == beast::error::timeout) limits_.hit("agent_idle_timeout", call_sid_);
          close_code_ = ec == websocket::error::closed ? static_cast<int>(ws_.reason().code) : -1;
          close_reason_ = ec == websocket::error::closed ? std::string(ws_.reason().reason.c_str()) : ec.message();
        }
        break;
      }
      on_message(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    }
    out_.close();
  }

  void on_message(const std::string& text) {
    auto parsed = parse_server_message(text);
    if (!parsed) {
      log(log_level::warn, "invalid agent message ignored", {{"call_sid", call_sid_}, {"error", parsed.error().message}});
      return;
    }
    std::visit(util::overloaded{
                   [&](audio_event& a) {
                     if (filter_.is_stale(a.event_id)) return;
                     metrics().frames_from_agent.inc();
                     if (!first_audio_logged_) {
                       first_audio_logged_ = true;
                       const auto since_start = std::chrono::steady_clock::now() - created_;
                       metrics().first_agent_audio_seconds.observe(since_start);
                       log(log_level::info, "first agent audio",
                           {{"call_sid", call_sid_}, {"conversation_id", conversation_id_},
                            {"ms_since_start", std::chrono::duration_cast<std::chrono::milliseconds>(since_start).count()}});
                     }
                     if (transcoder_) {
                       auto mulaw = transcoder_->to_caller(a.audio_base64);
                       if (mulaw.empty()) return;
                       caller_.send_audio(std::move(mulaw));
                     } else {
                       caller_.send_audio(std::move(a.audio_base64));
                     }
                     // Twilio echoes the mark once this chunk has played: what the caller actually heard.
                     caller_.send_mark("audio-" + std::to_string(a.event_id));
                   },
                   [&](interruption_event& i) {
                     filter_.on_interruption(i.event_id);
                     ++barge_ins_;
                     metrics().barge_ins.inc();
                     caller_.clear_audio();
                     log(log_level::info, "barge-in", {{"call_sid", call_sid_}, {"event_id", i.event_id}});
                   },
                   [&](ping_event& p) { out_.push(serialize_pong(p.event_id)); },
                   [&](client_tool_call& t) {
                     const bool known = t.tool_name == "end_call" || t.tool_name == "hang_up";
                     out_.push(serialize_tool_result(t.tool_call_id, known ? "ok" : "unknown tool " + t.tool_name, !known));
                   },
                   [&](agent_error& e) {
                     log(log_level::error, "agent error",
                         {{"call_sid", call_sid_}, {"code", e.code.value_or(0)}, {"type", e.error_type}, {"message", e.message}});
                   },
                   [&](user_transcript& t) { log(log_level::debug, "user transcript", {{"call_sid", call_sid_}, {"text", t.text}}); },
                   [&](agent_response& r) { log(log_level::debug, "agent response", {{"call_sid", call_sid_}, {"text", r.text}}); },
                   [&](auto&) {},
               },
               *parsed);
  }

  asio::awaitable<void> writer() {
    while (auto text = co_await out_.pop()) {
      auto [ec, n] = co_await ws_.async_write(asio::buffer(*text), use_tuple);
      if (ec) break;
    }
    if (ws_.is_open()) co_await ws_.async_close(websocket::close_code::normal, use_tuple);
  }

  asio::any_io_executor executor_;
  call::caller_link& caller_;
  const agent_settings& settings_;
  std::string call_sid_, conversation_id_, close_reason_;
  Stream ws_;
  call::message_queue<std::string> out_;
  asio::steady_timer goodbye_;
  initiation_client_data init_;
  interruption_filter filter_;
  std::optional<transcoder> transcoder_;  // only when the agent is not set to ulaw_8000
  std::deque<std::string> pending_;       // caller audio before the agent is ready
  bool ready_ = false;
  int close_code_ = -1;
  std::uint64_t barge_ins_ = 0;
  call::limit_log limits_;
  bool caller_gone_ = false;
  bool first_audio_logged_ = false;
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
};

}  // namespace

std::unique_ptr<call::agent> make_agent(const asio::any_io_executor& executor, call::caller_link& caller,
                                        const agent_settings& settings, const twilio::start_message& start) {
  if (settings.base_url.starts_with("https://"))
    return std::make_unique<conversation<tls_ws>>(executor, caller, settings, start, *settings.tls);
  return std::make_unique<conversation<plain_ws>>(executor, caller, settings, start);
}

std::shared_ptr<boost::asio::ssl::context> make_client_tls_context() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_default_verify_paths();  // the system store; OpenSSL honours SSL_CERT_FILE / SSL_CERT_DIR
  context->set_verify_mode(asio::ssl::verify_peer);
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);  // idle calls keep no TLS buffers
  return context;
}

}  // namespace voicebridge::elevenlabs
