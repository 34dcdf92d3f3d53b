#include "fake-elevenlabs/fake_speech.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <sstream>

#include "voicebridge/util/message_queue.hpp"
#include "common/stand_in_listener.hpp"
#include "common/ws_peer.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/audio/speech.hpp"
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
using steady_clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_contexts = 5;

// Outgoing messages; an entry with `close` set asks the writer to close with that code.
struct outgoing {
  std::string text;
  std::optional<websocket::close_code> close;
};
using out_queue = util::message_queue<outgoing>;

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string first_words(const std::string& text, std::size_t n) {
  const auto words = words_of(text);
  std::string out;
  for (std::size_t i = 0; i < std::min(n, words.size()); ++i) out += (i ? " " : "") + words[i];
  return out;
}

int mean_level(const std::vector<std::uint8_t>& mulaw) {
  if (mulaw.empty()) return 0;
  long long sum = 0;
  for (auto code : mulaw) sum += std::abs(static_cast<int>(audio::mulaw_decode(code)));
  return static_cast<int>(sum / static_cast<long long>(mulaw.size()));
}

template <class WebSocket>
asio::awaitable<void> write_all(WebSocket& ws, out_queue& out) {
  while (auto item = co_await out.pop()) {
    if (item->close) {
      co_await ws.async_close(*item->close, use_tuple);
      break;
    }
    ws.text(true);
    if (auto [ec, n] = co_await ws.async_write(asio::buffer(item->text), use_tuple); ec) break;
  }
}

}  // namespace

unsigned tone_hz(std::string_view context_id) {
  unsigned h = 2166136261u;  // FNV-1a: the same frequency for the same id in every process
  for (unsigned char c : context_id) h = (h ^ c) * 16777619u;
  return 300 + (h % 8) * 100;
}

struct fake_speech_server::impl {
  speech_script script;
  speech_record record;
  stand_in_listener listener;
  bool stt_dropped = false;
  int texts_received = 0;  // over every TTS session
  std::size_t next_transcript = 0;

  impl(asio::io_context& io, speech_script s, std::uint16_t port)
      : script(std::move(s)), listener(io, port, script.tls_certificate_chain, script.tls_private_key) {}

  template <class Stream>
  static asio::awaitable<void> serve(Stream stream, std::shared_ptr<impl> self) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    if (auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple); ec) co_return;
    const std::string target(req.target());
    const bool stt = target.starts_with("/v1/speech-to-text/realtime?");
    const bool tts = target.starts_with("/v1/text-to-speech/") && target.find("/multi-stream-input?") != std::string::npos;
    const bool key_ok = self->script.api_key.empty() || req["xi-api-key"] == self->script.api_key;
    unsigned refuse = !key_ok ? 401 : !(stt || tts) ? 404 : stt ? self->script.stt_refuse_status : self->script.tts_refuse_status;
    if (tts && target.find("model_id=eleven_v3") != std::string::npos) refuse = 403;  // no WebSocket input for v3
    if (refuse) {
      ++self->record.refused_upgrades;
      http::response<http::string_body> res{static_cast<http::status>(refuse), 11};
      res.body() = R"({"detail":{"status":"refused","message":"refused by fake"}})";
      res.prepare_payload();
      co_await http::async_write(stream, res, use_tuple);
      co_return;
    }
    beast::get_lowest_layer(stream).expires_never();
    ws_peer ws(std::move(stream));
    if (auto [ec] = co_await ws.async_accept(req, use_tuple); ec) co_return;
    if (stt) {
      ++self->record.stt_sessions;
      self->record.stt_targets.push_back(target);
      co_await self->transcribe(ws, target);
    } else {
      ++self->record.tts_sessions;
      self->record.tts_targets.push_back(target);
      co_await self->synthesize(ws, target);
    }
  }

  // --- speech to text ---
  template <class WebSocket>
  asio::awaitable<void> transcribe(WebSocket& ws, const std::string& target) {
    out_queue out(ws.get_executor(), 100000);
    auto reader = [&]() -> asio::awaitable<void> {
      out.push({R"({"message_type":"session_started","session_id":"stt_fake_)" + std::to_string(record.stt_sessions) +
                    R"(","config":{"audio_format":"ulaw_8000","sample_rate":8000,"model_id":"scribe_v2_realtime"}})",
                {}});
      for (const char* required : {"model_id=scribe_v2_realtime", "audio_format=ulaw_8000", "commit_strategy=vad"}) {
        if (target.find(required) == std::string::npos) {
          out.push({json::serialize(json::object{{"message_type", "invalid_request"}, {"error", std::string("missing ") + required}}), {}});
          out.push({{}, websocket::close_code::policy_error});
        }
      }
      if (!script.stt_error.empty()) {
        out.push({json::serialize(json::object{{"message_type", script.stt_error}, {"error", "scripted " + script.stt_error}}), {}});
        out.push({{}, websocket::close_code::policy_error});
      }
      beast::flat_buffer buffer;
      int speech_ms = 0, silence_ms = 0, partial_at = -1;
      auto last_chunk = steady_clock::now();
      for (;;) {
        auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
        if (ec == websocket::error::closed) record.gateway_close_codes.push_back(ws.reason().code);
        if (ec) break;
        json::error_code jec;
        auto v = json::parse(beast::buffers_to_string(buffer.data()), jec);
        buffer.consume(buffer.size());
        const json::object* o = !jec && v.is_object() ? &v.get_object() : nullptr;
        const json::value* type = o ? o->if_contains("message_type") : nullptr;
        const json::value* chunk = o ? o->if_contains("audio_base_64") : nullptr;
        if (!type || *type != "input_audio_chunk" || !chunk || !chunk->is_string()) {
          record.violations.push_back("stt: not an input_audio_chunk");
          continue;
        }
        auto audio = util::base64_decode(chunk->get_string());
        if (!audio) {
          record.violations.push_back("stt: audio_base_64 is not base64");
          continue;
        }
        const auto now = steady_clock::now();
        if (now - last_chunk > std::chrono::milliseconds(250)) ++record.stt_keepalives;  // Twilio's frames come every 20 ms
        last_chunk = now;
        record.stt_audio.insert(record.stt_audio.end(), audio->begin(), audio->end());
        const int ms = static_cast<int>(audio->size() / 8);
        const std::string& line = transcripts_line();
        if (mean_level(*audio) > script.speech_level) {
          speech_ms += ms;
          silence_ms = 0;
          if (speech_ms >= script.min_speech_ms && (partial_at < 0 || speech_ms - partial_at >= 200)) {
            partial_at = speech_ms;
            ++record.partials;
            out.push({json::serialize(json::object{{"message_type", "partial_transcript"},
                                                   {"text", first_words(line, static_cast<std::size_t>(speech_ms / 200 + 1))}}),
                      {}});
          }
        } else if (speech_ms >= script.min_speech_ms) {
          silence_ms += ms;
          if (silence_ms >= script.vad_silence_ms) {
            record.committed.push_back(line);
            ++next_transcript;
            out.push({json::serialize(json::object{{"message_type", "committed_transcript"}, {"text", line}}), {}});
            speech_ms = silence_ms = 0;
            partial_at = -1;
            if (script.stt_drop_after_commits && static_cast<int>(record.committed.size()) == script.stt_drop_after_commits &&
                !stt_dropped) {
              stt_dropped = true;
              out.push({{}, websocket::close_code::internal_error});
            }
          }
        } else {
          speech_ms = 0;  // a click, not speech
        }
      }
      out.close();
    };
    co_await (reader() && write_all(ws, out));
  }

  const std::string& transcripts_line() const {
    return script.transcripts[std::min(next_transcript, script.transcripts.size() - 1)];
  }

  // --- text to speech ---
  struct context_state {
    std::string voice_settings;  // as first sent
    bool open = true;
  };

  template <class WebSocket>
  asio::awaitable<void> synthesize(WebSocket& ws, const std::string& target) {
    out_queue out(ws.get_executor(), 100000);
    if (target.find("output_format=ulaw_8000") == std::string::npos) record.violations.push_back("tts: output_format is not ulaw_8000");
    std::map<std::string, context_state> contexts;
    auto refuse = [&](std::string error, std::string message) {
      record.violations.push_back("tts: " + message);
      out.push({json::serialize(json::object{{"message", message}, {"error", error}, {"code", 1008}}), {}});
      out.push({{}, websocket::close_code::policy_error});
    };
    auto reader = [&]() -> asio::awaitable<void> {
      beast::flat_buffer buffer;
      asio::steady_timer inactivity(ws.get_executor());
      for (;;) {
        inactivity.expires_after(std::chrono::milliseconds(script.tts_inactivity_ms));
        auto result = co_await (ws.async_read(buffer, use_tuple) || inactivity.async_wait(use_tuple));
        if (result.index() == 1) {  // as the service does after 20 s without input
          out.push({R"({"message":"Have not received a new text input within the timeout of 20 seconds","error":"input_timeout_exceeded","code":1008})", {}});
          out.push({{}, websocket::close_code::policy_error});
          break;
        }
        auto [ec, n] = std::get<0>(result);
        if (ec == websocket::error::closed) record.gateway_close_codes.push_back(ws.reason().code);
        if (ec) break;
        json::error_code jec;
        auto v = json::parse(beast::buffers_to_string(buffer.data()), jec);
        buffer.consume(buffer.size());
        if (jec || !v.is_object()) {
          refuse("invalid_input_message", "Could not parse input message");
          continue;
        }
        const auto& o = v.get_object();
        if (const auto* close = o.if_contains("close_socket"); close && close->is_bool() && close->get_bool()) {
          out.push({{}, websocket::close_code::normal});
          continue;
        }
        const auto* ctx_value = o.if_contains("context_id");
        const auto* text_value = o.if_contains("text");
        const std::string text = text_value && text_value->is_string() ? std::string(text_value->get_string()) : "";
        if (!ctx_value || !ctx_value->is_string()) {
          if (text_value && text.empty()) ++record.tts_keepalives;  // the socket's keep-alive
          else record.violations.push_back("tts: a message without context_id");
          continue;
        }
        const std::string ctx(ctx_value->get_string());
        const auto* settings = o.if_contains("voice_settings");
        auto found = contexts.find(ctx);
        if (found == contexts.end()) {  // a new context: its first message must be the init
          if (text != " " || !settings) {
            refuse("invalid_input_message", "the first message of context " + ctx + " must be {text:' ', voice_settings}");
            continue;
          }
          std::size_t open = 0;
          for (const auto& [id, c] : contexts) open += c.open;
          if (open >= max_contexts) {
            refuse("max_active_conversations", "Maximum simultaneous contexts per WebSocket connection exceeded (5)");
            continue;
          }
          contexts[ctx] = context_state{json::serialize(*settings), true};
          record.context_text[ctx];
          continue;
        }
        auto& c = found->second;
        if (settings && json::serialize(*settings) != c.voice_settings) {
          refuse("invalid_input_message", "voice_settings field must be provided in the first message and then not change");
          continue;
        }
        if (const auto* cc = o.if_contains("close_context"); cc && cc->is_bool() && cc->get_bool()) {
          if (c.open) {
            c.open = false;
            record.closed_contexts.push_back(ctx);
            record.finals.push_back(ctx);
            out.push({json::serialize(json::object{{"isFinal", true}, {"contextId", ctx}}), {}});
          }
          continue;
        }
        if (!text_value) continue;  // a flush alone: everything sent is already spoken
        if (text.empty()) {
          ++record.tts_keepalives;
          continue;
        }
        if (!c.open) {
          record.violations.push_back("tts: text for closed context " + ctx);
          continue;
        }
        record.context_text[ctx] += text;
        speak(out, ctx, text);
        if (script.tts_drop_after_texts && ++texts_received == script.tts_drop_after_texts) {
          out.push({{}, websocket::close_code::internal_error});  // a server failure mid-answer
          continue;
        }
      }
      out.close();
    };
    co_await (reader() && write_all(ws, out));
  }

  void speak(out_queue& out, const std::string& ctx, const std::string& text) {
    if (!script.espeak_voice.empty()) {
      if (auto spoken = audio::synthesize_mulaw(text, script.espeak_voice)) return send_speech(out, ctx, text, *spoken);
    }
    tone(out, ctx, text);
  }

  // espeak-ng's audio in chunk_ms pieces, the text spread evenly over them as the alignment.
  void send_speech(out_queue& out, const std::string& ctx, const std::string& text, const std::vector<std::uint8_t>& mulaw) {
    const std::size_t chunk = static_cast<std::size_t>(script.chunk_ms) * 8;
    const std::size_t chunks = std::max<std::size_t>(1, (mulaw.size() + chunk - 1) / chunk);
    for (std::size_t i = 0; i < chunks; ++i) {
      const std::size_t first = text.size() * i / chunks, last = text.size() * (i + 1) / chunks;
      json::array chars;
      for (std::size_t c = first; c < last; ++c) chars.emplace_back(std::string(1, text[c]));
      const auto begin = std::min(mulaw.size(), i * chunk);
      const std::vector<std::uint8_t> part(mulaw.begin() + static_cast<std::ptrdiff_t>(begin),
                                           mulaw.begin() + static_cast<std::ptrdiff_t>(std::min(mulaw.size(), begin + chunk)));
      out.push({json::serialize(json::object{{"audio", util::base64_encode(part)}, {"contextId", ctx},
                                             {"alignment", {{"chars", chars}}}}),
                {}});
    }
  }

  // A tone of the context's own frequency, ms_per_char per character, in chunks with their characters.
  void tone(out_queue& out, const std::string& ctx, const std::string& text) {
    const double hz = tone_hz(ctx);
    const std::size_t chars_per_chunk = static_cast<std::size_t>(std::max(1, script.chunk_ms / script.ms_per_char));
    for (std::size_t first = 0; first < text.size(); first += chars_per_chunk) {
      const std::string part = text.substr(first, chars_per_chunk);
      std::vector<std::int16_t> pcm(part.size() * static_cast<std::size_t>(script.ms_per_char) * 8);
      const std::size_t offset = first * static_cast<std::size_t>(script.ms_per_char) * 8;
      for (std::size_t i = 0; i < pcm.size(); ++i)
        pcm[i] = static_cast<std::int16_t>(6000 * std::sin(2 * M_PI * hz * static_cast<double>(offset + i) / 8000.0));
      json::array chars, starts, durations;
      for (std::size_t i = 0; i < part.size(); ++i) {
        chars.emplace_back(std::string(1, part[i]));
        starts.emplace_back(static_cast<std::int64_t>(i) * script.ms_per_char);
        durations.emplace_back(script.ms_per_char);
      }
      const auto mulaw = audio::mulaw_encode(pcm);
      out.push({json::serialize(json::object{
                    {"audio", util::base64_encode(mulaw)},
                    {"isFinal", nullptr},
                    {"contextId", ctx},
                    {"alignment", {{"chars", chars}, {"charStartTimesMs", starts}, {"charDurationsMs", durations}}}}),
                {}});
    }
  }
};

fake_speech_server::fake_speech_server(asio::io_context& io, speech_script script, std::uint16_t port)
    : impl_(std::make_shared<impl>(io, std::move(script), port)) {
  asio::co_spawn(io, accept_connections(impl_, impl_->listener,
                                        [self = impl_](auto stream) { return impl::serve(std::move(stream), self); }),
                 voicebridge::tools::report_escape("fake speech listener"));
}
fake_speech_server::~fake_speech_server() {
  impl_->listener.close();
}
std::uint16_t fake_speech_server::port() const { return impl_->listener.port(); }
const speech_record& fake_speech_server::record() const { return impl_->record; }
speech_script& fake_speech_server::script() { return impl_->script; }

}  // namespace voicebridge::fake
