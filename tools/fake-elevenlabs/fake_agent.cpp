#include "fake-elevenlabs/fake_agent.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include "voicebridge/util/message_queue.hpp"
#include "common/stand_in_listener.hpp"
#include "common/ws_peer.hpp"
#include "voicebridge/util/base64.hpp"
#include "common/report_escape.hpp"

namespace voicebridge::fake {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string audio_message(std::string_view b64, std::int64_t event_id) {
  return json::serialize(json::object{{"type", "audio"}, {"audio_event", {{"audio_base_64", b64}, {"event_id", event_id}}}});
}

// A message for the agent's writer. An echo of a loadgen-tagged frame (magic A5 5A 3C C3, index, then 4 bytes
// for us) carries how long the echo waited here, in microseconds, in the tag's bytes 9-11 (base64 characters
// 12-15): the load generator subtracts it from the round trip to get the gateway's share.
struct outgoing {
  outgoing(std::string t) : text(std::move(t)) {}
  outgoing(const char* t) : text(t) {}
  std::string text;  // "" asks for the close
  std::size_t hold_stamp = 0;  // offset of the four base64 characters to overwrite; 0: none
  std::chrono::steady_clock::time_point read_at;
};

outgoing timed_echo(std::string_view b64, std::int64_t event_id, std::chrono::steady_clock::time_point read_at) {
  outgoing o(audio_message(b64, event_id));
  constexpr std::string_view tag_magic = "pVo8w";  // base64 of A5 5A 3C C3 (its first 5 characters)
  const auto payload = o.text.find("\"audio_base_64\":\"");
  if (b64.size() >= 16 && b64.starts_with(tag_magic) && payload != std::string::npos) {
    o.hold_stamp = payload + 17 + 12;
    o.read_at = read_at;
  }
  return o;
}

void stamp_hold(outgoing& o) {
  if (!o.hold_stamp) return;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - o.read_at).count();
  const std::uint32_t v = static_cast<std::uint32_t>(std::min<std::int64_t>(us, 0xFFFFFF));
  const std::array<std::uint8_t, 3> bytes{static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                                          static_cast<std::uint8_t>(v >> 16)};
  o.text.replace(o.hold_stamp, 4, util::base64_encode(bytes));
}

}  // namespace

struct fake_agent_server::impl {
  agent_script script;
  agent_record record;
  stand_in_listener listener;
  std::vector<std::string> signatures;  // issued, not yet used
  int refused_so_far = 0;                // of script.refuse_first_upgrades

  impl(asio::io_context& io, agent_script s, std::uint16_t port)
      : script(std::move(s)), listener(io, port, script.tls_certificate_chain, script.tls_private_key) {}

  template <class Stream>
  static asio::awaitable<void> serve(Stream stream, std::shared_ptr<impl> self) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [rec, rn] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (rec) co_return;
    const std::string target(req.target());
    if (target.starts_with("/v1/convai/conversation/get-signed-url?agent_id=")) {
      const bool key_ok = !self->script.api_key.empty() && req["xi-api-key"] == self->script.api_key;
      http::response<http::string_body> res{key_ok ? http::status::ok : http::status::unauthorized, 11};
      if (key_ok) {
        const std::string signature = "sig" + std::to_string(++self->record.signed_urls_issued) + "x" + std::to_string(std::rand());
        self->signatures.push_back(signature);
        res.body() = json::serialize(json::object{
            {"signed_url", std::string(self->listener.tls ? "wss" : "ws") + "://" + std::string(req[http::field::host]) +
                               "/v1/convai/conversation?agent_id=" + target.substr(target.find('=') + 1) +
                               "&conversation_signature=" + signature}});
      } else {
        res.body() = R"({"detail":{"status":"invalid_api_key","message":"Invalid API key"}})";
      }
      res.prepare_payload();
      co_await http::async_write(stream, res, use_tuple);
      co_return;
    }
    // A private agent's socket needs a signature this fake issued, once.
    bool signature_ok = self->script.api_key.empty();
    if (const auto at = target.find("&conversation_signature="); !signature_ok && at != std::string::npos) {
      auto it = std::find(self->signatures.begin(), self->signatures.end(), target.substr(at + 24));
      if (it != self->signatures.end()) {
        self->signatures.erase(it);
        signature_ok = true;
      }
    }
    if (!signature_ok) {
      ++self->record.refused_upgrades;
      http::response<http::string_body> res{http::status::forbidden, 11};
      res.prepare_payload();
      co_await http::async_write(stream, res, use_tuple);
      co_return;
    }
    if (self->script.connect_delay_ms) {
      asio::steady_timer delay(stream.get_executor(), std::chrono::milliseconds(self->script.connect_delay_ms));
      co_await delay.async_wait(use_tuple);
    }
    const bool refuse_this_one = self->refused_so_far < self->script.refuse_first_upgrades;
    if (refuse_this_one) ++self->refused_so_far;
    if (req.target().starts_with("/v1/convai/conversation?agent_id="))
      self->record.upgrade_attempts.push_back(std::chrono::steady_clock::now());
    if (refuse_this_one || self->script.refuse_upgrade_status ||
        !req.target().starts_with("/v1/convai/conversation?agent_id=")) {
      const unsigned status = refuse_this_one                    ? self->script.refuse_first_status
                              : self->script.refuse_upgrade_status ? self->script.refuse_upgrade_status
                                                                   : 404;
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.body() = R"({"detail":{"status":"too_many_concurrent_requests","message":"refused by fake"}})";
      res.prepare_payload();
      co_await http::async_write(stream, res, use_tuple);
      co_return;
    }
    beast::get_lowest_layer(stream).expires_never();
    ws_peer ws(std::move(stream));
    if (auto [ec] = co_await ws.async_accept(req, use_tuple); ec) co_return;
    ++self->record.conversations;
    co_await self->talk(ws);
  }

  template <class WebSocket>
  asio::awaitable<void> talk(WebSocket& ws) {
    util::message_queue<outgoing> out(ws.get_executor(), 100000);  // one writer
    websocket::close_code close_code = websocket::close_code::normal;
    std::int64_t event_id = 1;
    int frames = 0;
    bool silent = false;         // silent_after_metadata, once the metadata is out
    bool first_pending = true;   // no ping before the metadata
    asio::steady_timer pings(ws.get_executor());
    auto say = [&](const std::vector<std::uint8_t>& audio) {
      for (std::size_t i = 0; i < audio.size(); i += 800)
        out.push(audio_message(util::base64_encode(std::span(audio).subspan(i, std::min<std::size_t>(800, audio.size() - i))), event_id));
    };
    auto reader = [&]() -> asio::awaitable<void> {
      beast::flat_buffer buffer;
      bool first = true;
      for (;;) {
        auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
        if (ec == websocket::error::closed) record.gateway_close_codes.push_back(ws.reason().code);
        if (ec) break;
        const auto read_at = std::chrono::steady_clock::now();
        json::error_code jec;
        auto v = json::parse(beast::buffers_to_string(buffer.data()), jec);
        buffer.consume(buffer.size());
        if (jec || !v.is_object()) continue;
        auto& o = v.as_object();
        const auto* type = o.if_contains("type");
        if (first) {  // the initiation must come first (official clients send it at once)
          first = false;
          record.initiations.push_back(json::serialize(o));
          if (script.metadata_delay_ms) {
            asio::steady_timer delay(ws.get_executor(), std::chrono::milliseconds(script.metadata_delay_ms));
            co_await delay.async_wait(use_tuple);
          }
          out.push(json::serialize(json::object{{"type", "conversation_initiation_metadata"},
              {"conversation_initiation_metadata_event", {{"conversation_id", "conv_fake_" + std::to_string(record.conversations)},
               {"agent_output_audio_format", script.output_format}, {"user_input_audio_format", script.input_format}}}}));
          first_pending = false;
          if (script.silent_after_metadata) {
            silent = true;
            continue;
          }
          if (script.quota_error_after_metadata) {
            out.push(R"({"type":"error","message":"received 1002 (protocol error) This request exceeds your quota limit."})");
            close_code = websocket::close_code::protocol_error;
            out.push("");
            continue;
          }
          out.push(json::serialize(json::object{{"type", "ping"}, {"ping_event", {{"event_id", 4242}, {"ping_ms", nullptr}}}}));
          say(script.greeting);
          if (script.transcripts) {  // what a real agent says of its greeting, then corrects (Agents Platform "WebSocket" reference: agent_response_correction)
            out.push(json::serialize(json::object{{"type", "agent_response"},
                {"agent_response_event", {{"agent_response", "Hello, how can I help you today?"}, {"event_id", event_id}}}}));
            out.push(json::serialize(json::object{{"type", "agent_response_correction"},
                {"agent_response_correction_event", {{"original_agent_response", "Hello, how can I help you today?"},
                                                     {"corrected_agent_response", "Hello, how can I"}, {"event_id", event_id}}}}));
          }
          ++event_id;
          if (!script.tool_call_after_greeting.empty())
            out.push(json::serialize(json::object{{"type", "client_tool_call"},
                {"client_tool_call", {{"tool_name", script.tool_call_after_greeting}, {"tool_call_id", "toolu_1"},
                                      {"parameters", json::parse(script.tool_parameters_json)}, {"event_id", event_id}}}}));
          continue;
        }
        if (silent) continue;  // hung: reads, never answers
        if (const auto* chunk = o.if_contains("user_audio_chunk"); chunk && chunk->is_string()) {
          auto bytes = util::base64_decode(chunk->get_string());
          if (bytes) record.caller_audio.insert(record.caller_audio.end(), bytes->begin(), bytes->end());
          ++frames;
          if (script.transcripts && frames == 10)
            out.push(json::serialize(json::object{{"type", "user_transcript"},
                {"user_transcription_event", {{"user_transcript", script.user_transcript}, {"event_id", event_id}}}}));
          if (script.interrupt_after_frames && frames == script.interrupt_after_frames) {
            out.push(json::serialize(json::object{{"type", "interruption"}, {"interruption_event", {{"event_id", event_id}}}}));
            out.push(audio_message(chunk->get_string(), event_id));  // a straggler of the interrupted turn
            ++record.interruptions_sent;
            ++event_id;
          }
          if (script.close_1008_after_frames && frames == script.close_1008_after_frames) {
            out.push(R"({"type":"error","error_event":{"code":1008,"message":"Override for field 'voice_id' is not allowed by config","error_type":"override_error"}})");
            close_code = websocket::close_code::policy_error;
            out.push("");
          } else if (script.end_call_after_frames && frames == script.end_call_after_frames) {
            say(script.greeting);
            out.push("");
          } else if (script.echo) {
            out.push(timed_echo(chunk->get_string(), event_id, read_at));
          }
        } else if (type && *type == "pong") {
          record.pongs.push_back(o.at("event_id").to_number<std::int64_t>());
        } else if (type && *type == "contextual_update") {
          record.contextual_updates.emplace_back(o.at("text").as_string());
        } else if (type && *type == "user_message") {
          record.user_messages.emplace_back(o.at("text").as_string());
        } else if (type && *type == "client_tool_result") {
          record.tool_results.push_back(json::serialize(o));
        } else {
          record.other_messages.push_back(json::serialize(o));
        }
      }
      out.close();
      pings.cancel();
    };
    // Pings every ping_interval_ms after the first, as the real service keeps pinging its clients.
    auto pinger = [&]() -> asio::awaitable<void> {
      if (script.ping_interval_ms <= 0) co_return;
      for (std::int64_t id = 4243;; ++id) {
        pings.expires_after(std::chrono::milliseconds(script.ping_interval_ms));
        if (auto [ec] = co_await pings.async_wait(use_tuple); ec || out.closed()) co_return;
        if (silent || first_pending) continue;
        out.push(json::serialize(json::object{{"type", "ping"}, {"ping_event", {{"event_id", id}, {"ping_ms", 20}}}}));
      }
    };
    auto writer = [&]() -> asio::awaitable<void> {
      while (auto message = co_await out.pop()) {
        if (message->text.empty()) {
          co_await ws.async_close(close_code, use_tuple);
          break;
        }
        stamp_hold(*message);
        ws.text(true);
        auto [ec, n] = co_await ws.async_write(asio::buffer(message->text), use_tuple);
        if (ec) break;
      }
    };
    co_await (reader() && writer() && pinger());
  }
};

fake_agent_server::fake_agent_server(asio::io_context& io, agent_script script, std::uint16_t port)
    : impl_(std::make_shared<impl>(io, std::move(script), port)) {
  asio::co_spawn(io, accept_connections(impl_, impl_->listener,
                                        [self = impl_](auto stream) { return impl::serve(std::move(stream), self); }),
                 voicebridge::tools::report_escape("fake agent listener"));
}
fake_agent_server::~fake_agent_server() {
  impl_->listener.close();
}
std::uint16_t fake_agent_server::port() const { return impl_->listener.port(); }
const agent_record& fake_agent_server::record() const { return impl_->record; }

}  // namespace voicebridge::fake
