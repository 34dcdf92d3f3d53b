#include "pipeline/pipeline_agent.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <optional>

#include "app/report_escape.hpp"
#include "pipeline/spoken_turn.hpp"
#include "pipeline/speech_socket.hpp"
#include "util/overloaded.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/elevenlabs/speech_messages.hpp"
#include "voicebridge/twilio/twiml.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::pipeline {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using app::log;
using app::log_level;
using app::metrics;
using call::agent;
using call::agent_end;
using call::caller_link;
using std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr double voice_stability = 0.5, voice_similarity = 0.8;  // sent once per context, never changed
// One answer, or one user turn, is at most this long (some 3 minutes of speech): it bounds the history.
constexpr std::size_t max_turn_chars = 4000;

std::int64_t ms_since(steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t).count();
}

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

speech_socket_settings socket_settings(const pipeline_settings& s, std::string name, std::string target) {
  speech_socket_settings out;
  out.name = std::move(name);
  out.address = net::parse_service_url(s.speech_base_url).value_or(net::service_address{});
  out.target = std::move(target);
  if (!s.api_key.empty()) out.headers.emplace_back("xi-api-key", s.api_key);
  out.tls = s.tls;
  out.connect_timeout = s.connect_timeout;
  out.idle_timeout = s.idle_timeout;
  out.max_queued = s.max_queued;
  out.reconnect_attempts = s.reconnect_attempts;
  return out;
}

// ElevenLabs API reference, "Realtime speech to text" (audio_format ulaw_8000, commit_strategy vad): Twilio's
// mu-law goes in as it is; the VAD decides when a turn is over.
std::string stt_target(const pipeline_settings& s) {
  std::string target = "/v1/speech-to-text/realtime?model_id=" + s.stt_model + "&audio_format=ulaw_8000&commit_strategy=vad";
  if (!s.language.empty()) target += "&language_code=" + s.language;
  return target;
}

// ElevenLabs API reference, "Multi-Context WebSocket" (output_format ulaw_8000, auto_mode): mu-law out for Twilio; auto_mode because we send whole phrases.
std::string tts_target(const pipeline_settings& s) {
  return "/v1/text-to-speech/" + s.voice_id + "/multi-stream-input?model_id=" + s.tts_model +
         "&output_format=ulaw_8000&auto_mode=true";
}

std::string silent_frame() {
  const std::vector<std::uint8_t> silence(160, 0xFF);  // 20 ms of mu-law silence
  return util::base64_encode(silence);
}

// One agent turn: the greeting, or the answer to one user turn.
struct agent_turn {
  int number = 0;             // 0: none yet
  std::string context;        // its TTS context
  std::vector<std::string> phrases;  // sent to TTS, in order (said again after a TTS reconnect)
  std::size_t received_chars = 0;    // of the phrases, spoken back in audio so far (from the alignment)
  std::string answer;         // the LLM's text so far
  spoken_turn spoken;
  bool llm_active = false;    // the answer is still being written
  bool context_closed = false;
  bool tts_final = false;
  int chunks = 0;
  std::optional<std::size_t> history_index;  // its assistant message, once the answer is complete
  // Where the time to the first audio goes: the LLM's first token, the first phrase handed to TTS.
  std::optional<steady_clock::time_point> user_turn_ended, first_token, first_phrase;
  bool first_audio_seen = false;
};

class pipeline_agent final : public agent {
 public:
  pipeline_agent(const asio::any_io_executor& executor, caller_link& caller, const pipeline_settings& settings,
                 std::string call_sid)
      : executor_(executor),
        caller_(caller),
        settings_(settings),
        call_sid_(std::move(call_sid)),
        stt_(executor, socket_settings(settings, "stt", stt_target(settings)), call_sid_,
             [this](std::string_view m) { on_stt(m); }),
        tts_(executor, socket_settings(settings, "tts", tts_target(settings)), call_sid_,
             [this](std::string_view m) { on_tts(m); }),
        keepalive_(executor),
        goodbye_(executor),
        llm_done_(executor) {
    history_.push_back({"system", settings.system_prompt, {}, {}});
  }

  void on_caller_audio(std::string_view payload_base64) override {
    if (ended_) return;
    stt_.send(elevenlabs::serialize_stt_audio(payload_base64));
    last_stt_send_ = steady_clock::now();
    metrics().frames_to_agent.inc();
  }
  void on_dtmf(char digit) override {
    if (running_) start_turn(std::string("(The caller pressed the key ") + digit + " on the phone keypad.)");
  }
  void on_mark(std::string_view name) override {
    turn_.spoken.played(name);
    goodbye_.cancel();  // an end_call goodbye waits for its last mark
  }
  void on_caller_hangup() override { finish(agent_end::served); }

  asio::awaitable<agent_end> run() override {
    started_ = steady_clock::now();
    bool stt_refused = false, tts_refused = false;
    auto [stt_error, tts_error] = co_await (stt_.connect(stt_refused) && tts_.connect(tts_refused));
    if (!stt_error.empty() || !tts_error.empty()) {
      log(log_level::error, "pipeline unavailable",
          {{"call_sid", call_sid_}, {"stt", stt_error.empty() ? "ok" : stt_error}, {"tts", tts_error.empty() ? "ok" : tts_error}});
      if (stt_refused || tts_refused) co_return agent_end::refused;
      co_return stt_.rate_limited() || tts_.rate_limited() ? agent_end::rate_limited : agent_end::unreachable;
    }
    connected_ = true;
    log(log_level::info, "pipeline connected", {{"call_sid", call_sid_}, {"connect_ms", ms_since(started_)}});
    metrics().agent_connect_seconds.observe(steady_clock::now() - started_);
    running_ = !ended_;
    last_stt_send_ = last_tts_send_ = steady_clock::now();
    if (running_ && !settings_.greeting.empty()) greet();
    co_await (serve_stt() && serve_tts() && keep_alive());
    running_ = false;
    while (llm_in_flight_ > 0) {  // an answer being written holds `this`
      llm_done_.expires_at(steady_clock::time_point::max());
      auto [ec] = co_await llm_done_.async_wait(use_tuple);
      (void)ec;
    }
    log(log_level::info, "pipeline ended", {{"call_sid", call_sid_}, {"turns", turns_}, {"barge_ins", barge_ins_}});
    co_return end_;
  }

  void describe(records::call_record& record) const override {
    if (first_audio_ms_) record.first_agent_audio_ms = first_audio_ms_;
    record.barge_ins += barge_ins_;
    if (connected_) {
      record.agent_close_codes.push_back(stt_.close_code());
      record.agent_close_codes.push_back(tts_.close_code());
    }
    record.transcript.insert(record.transcript.end(), facts_.transcript.begin(), facts_.transcript.end());
  }

 private:
  // Ends the conversation: both sockets close with 1000, an answer being written is cancelled.
  void finish(agent_end end) {
    if (ended_) return;
    ended_ = true;
    end_ = end;
    stt_.close();
    tts_.close();
    keepalive_.cancel();
    goodbye_.cancel();
    cancel_answer();
  }

  // (Named locals as coroutine arguments. GCC 12: docs/gcc12-coroutines.md)
  asio::awaitable<void> serve_stt() {
    const std::function<void()> no_hook;
    const socket_end end = co_await stt_.run(no_hook);
    if (end == socket_end::failed) fail("speech-to-text failed");
  }

  asio::awaitable<void> serve_tts() {
    const std::function<void()> resume = [this] { resume_turn_after_reconnect(); };
    const socket_end end = co_await tts_.run(resume);
    if (end == socket_end::failed) fail("text-to-speech failed");
  }

  void fail(const char* why) {
    if (ended_) return;
    log(log_level::error, "pipeline failed", {{"call_sid", call_sid_}, {"reason", why}});
    finish(first_audio_ms_ ? agent_end::failed_mid_call : agent_end::refused);
  }

  // The TTS socket keeps up to 20 s without input, the STT socket wants audio: keep both alive while the
  // call is quiet (ElevenLabs API reference, "Multi-Context WebSocket" and "Realtime speech to text": both close idle sockets).
  asio::awaitable<void> keep_alive() {
    const std::string silence = silent_frame();
    while (!ended_) {
      keepalive_.expires_at(std::min(last_stt_send_ + settings_.stt_keepalive, last_tts_send_ + settings_.tts_keepalive));
      auto [ec] = co_await keepalive_.async_wait(use_tuple);
      (void)ec;
      if (ended_) break;
      const auto now = steady_clock::now();
      if (now >= last_stt_send_ + settings_.stt_keepalive) {
        stt_.send(elevenlabs::serialize_stt_audio(silence));
        last_stt_send_ = now;
      }
      if (now >= last_tts_send_ + settings_.tts_keepalive)
        send_tts(elevenlabs::serialize_tts_keepalive(turn_.number > 0 && !turn_.context_closed ? turn_.context : ""));
    }
  }

  void on_stt(std::string_view text) {
    auto parsed = elevenlabs::parse_stt_message(text);
    if (!parsed) {
      log(log_level::warn, "invalid speech-to-text message ignored", {{"call_sid", call_sid_}, {"error", parsed.error().message}});
      return;
    }
    std::visit(util::overloaded{
                   [&](elevenlabs::stt_session_started& s) {
                     log(log_level::debug, "speech-to-text session", {{"call_sid", call_sid_}, {"session_id", s.session_id}});
                   },
                   [&](elevenlabs::stt_partial& p) {
                     if (!blank(p.text) && speaking()) barge_in();
                   },
                   [&](elevenlabs::stt_committed& c) {
                     if (!blank(c.text)) start_turn(std::move(c.text));
                   },
                   [&](elevenlabs::stt_error& e) {
                     log(log_level::error, "speech-to-text error",
                         {{"call_sid", call_sid_}, {"type", e.type}, {"message", e.message}});
                     if (!e.retryable) {
                       stt_.fail_for_good();
                       fail("speech-to-text refused");
                     }
                   },
                   [&](elevenlabs::stt_unknown& u) {
                     log(log_level::debug, "speech-to-text message ignored", {{"call_sid", call_sid_}, {"type", u.type}});
                   },
               },
               *parsed);
  }

  void on_tts(std::string_view text) {
    auto parsed = elevenlabs::parse_tts_message(text);
    if (!parsed) {
      log(log_level::warn, "invalid text-to-speech message ignored", {{"call_sid", call_sid_}, {"error", parsed.error().message}});
      return;
    }
    std::visit(util::overloaded{
                   [&](elevenlabs::tts_audio& a) { play(std::move(a)); },
                   [&](elevenlabs::tts_final& f) {
                     if (f.context_id != turn_.context) return;
                     turn_.tts_final = true;
                     goodbye_.cancel();
                   },
                   [&](elevenlabs::tts_error& e) {
                     log(log_level::error, "text-to-speech error",
                         {{"call_sid", call_sid_}, {"error", e.error}, {"message", e.message}, {"code", e.code.value_or(0)}});
                     // Idle timeouts and context limits pass with a new socket; a key or quota problem does not.
                     if (e.error.find("quota") != std::string::npos || e.error.find("auth") != std::string::npos ||
                         e.error.find("api_key") != std::string::npos)
                       tts_.fail_for_good();
                   },
               },
               *parsed);
  }

  // A chunk of the current turn's audio to the caller, then a mark so we learn when it has played.
  void play(elevenlabs::tts_audio audio) {
    if (audio.context_id != turn_.context || turn_.spoken.interrupted() || audio.audio_base64.empty()) return;
    metrics().frames_from_agent.inc();
    const auto now = steady_clock::now();
    if (!first_audio_ms_) {
      first_audio_ms_ = ms_since(started_);
      metrics().first_agent_audio_seconds.observe(now - started_);
    }
    if (turn_.user_turn_ended && !turn_.first_audio_seen) {
      const auto since_turn = [&](const std::optional<steady_clock::time_point>& t) {
        if (!t) return std::string("none");
        char text[32];
        std::snprintf(text, sizeof text, "%.1f", std::chrono::duration<double, std::milli>(*t - *turn_.user_turn_ended).count());
        return std::string(text);
      };
      metrics().turn_first_audio_seconds.observe(now - *turn_.user_turn_ended);
      // From the end of the caller's turn: the LLM's first token, its first phrase handed to TTS, the first audio
      // sent to the caller. The last two apart is the TTS round trip plus the gateway's own work.
      log(log_level::info, "answer started",
          {{"call_sid", call_sid_}, {"turn", turn_.number}, {"llm_first_token_ms", since_turn(turn_.first_token)},
           {"first_phrase_ms", since_turn(turn_.first_phrase)}, {"ms_after_user_turn", since_turn(now)}});
    }
    turn_.first_audio_seen = true;
    turn_.received_chars += audio.text.size();
    const std::string mark = turn_.context + "." + std::to_string(++turn_.chunks);
    caller_.send_audio(audio.audio_base64);
    caller_.send_mark(mark);
    turn_.spoken.sent(mark, std::move(audio.text));
  }

  bool speaking() const {
    return turn_.number > 0 && !turn_.spoken.interrupted() &&
           (turn_.llm_active || !turn_.tts_final || turn_.spoken.playing());
  }

  void send_tts(std::string message) {
    tts_.send(std::move(message));
    last_tts_send_ = steady_clock::now();
  }

  // A new agent turn in a new TTS context. The previous turn's context is closed first, so at most two are
  // open at any time (the socket allows five).
  void begin_agent_turn() {
    if (turn_.number > 0 && !turn_.context_closed) send_tts(elevenlabs::serialize_tts_close_context(turn_.context));
    turn_ = agent_turn{};
    turn_.number = ++turns_;
    turn_.context = "turn-" + std::to_string(turn_.number);
    send_tts(elevenlabs::serialize_tts_init(turn_.context, voice_stability, voice_similarity));
  }

  void speak(std::string phrase) {
    if (!turn_.first_phrase) turn_.first_phrase = steady_clock::now();
    send_tts(elevenlabs::serialize_tts_text(turn_.context, phrase));
    turn_.phrases.push_back(std::move(phrase));
  }

  // Everything is sent: generate the rest, and close the context so isFinal follows the last audio.
  void end_of_answer() {
    send_tts(elevenlabs::serialize_tts_flush(turn_.context));
    send_tts(elevenlabs::serialize_tts_close_context(turn_.context));
    turn_.context_closed = true;
  }

  void greet() {
    begin_agent_turn();
    speak(settings_.greeting + " ");
    end_of_answer();
    turn_.answer = settings_.greeting;
    remember_answer({});
  }

  // The old socket took the turn's context with it: say again, in a new context, the phrases whose audio
  // had not come back yet (a phrase cut in the middle is said again whole).
  void resume_turn_after_reconnect() {
    tts_.clear_queue();  // messages for contexts of the old socket
    if (turn_.number == 0 || turn_.spoken.interrupted() || (turn_.tts_final && !turn_.llm_active)) return;
    turn_.context = "turn-" + std::to_string(turn_.number) + "-r" + std::to_string(++tts_reconnects_);
    send_tts(elevenlabs::serialize_tts_init(turn_.context, voice_stability, voice_similarity));
    std::size_t offset = 0;
    for (const auto& phrase : turn_.phrases) {
      offset += phrase.size();
      if (offset > turn_.received_chars) send_tts(elevenlabs::serialize_tts_text(turn_.context, phrase));
    }
    turn_.tts_final = false;
    turn_.context_closed = false;
    if (!turn_.llm_active) end_of_answer();
  }

  void start_turn(std::string user_text) {
    if (ended_ || ending_) return;
    if (user_text.size() > max_turn_chars) {  // at a character boundary: the LLM wants valid UTF-8
      std::size_t end = max_turn_chars;
      while (end > 0 && (static_cast<unsigned char>(user_text[end]) & 0xC0) == 0x80) --end;
      user_text.resize(end);
    }
    if (speaking()) barge_in();
    log(log_level::info, "user turn", {{"call_sid", call_sid_}, {"chars", user_text.size()}});
    log(log_level::debug, "user text", {{"call_sid", call_sid_}, {"text", user_text}});
    facts_.add_user_text(user_text, turns_ + 1);
    history_.push_back({"user", std::move(user_text), {}, {}});
    trim_history();
    begin_agent_turn();
    turn_.user_turn_ended = steady_clock::now();
    turn_.llm_active = true;
    ++llm_in_flight_;
    // A signal per request: a cancelled request may still be finishing when the next one starts.
    auto cancel = std::make_shared<asio::cancellation_signal>();
    llm_cancel_ = cancel;
    asio::co_spawn(executor_, answer(turn_.number, history_),
                   asio::bind_cancellation_slot(cancel->slot(), [this, cancel](std::exception_ptr e) {
                     app::report_escape("llm_answer")(e);  // a barge-in's cancellation at debug, a bug at error
                     if (--llm_in_flight_ == 0) llm_done_.cancel();
                   }));
  }

  void trim_history() {
    while (history_.size() > settings_.max_history + 1) {
      history_.erase(history_.begin() + 1);  // never the system prompt
      // A tool result must follow the assistant message that called it.
      while (history_.size() > 1 && history_[1].role == "tool") history_.erase(history_.begin() + 1);
    }
  }

  bool stale(int number) const { return ended_ || number != turn_.number || turn_.spoken.interrupted(); }

  // Streams the answer to `number` phrase by phrase into its TTS context; one more try for a failure that
  // may pass, before any of the answer was said.
  asio::awaitable<void> answer(int number, std::vector<llm::chat_message> messages) {
    llm::phrase_chunker chunker;
    const std::function<void(std::string_view)> on_text = [this, number, &chunker](std::string_view token) {
      if (stale(number) || turn_.answer.size() + token.size() > max_turn_chars) return;
      if (!turn_.first_token) turn_.first_token = steady_clock::now();
      turn_.answer += token;
      if (auto phrase = chunker.add(token)) speak(std::move(*phrase));
    };
    llm::chat_outcome outcome;
    for (int attempt = 0; attempt < 2; ++attempt) {
      outcome = co_await llm::stream_chat(settings_.llm, messages, on_text);
      if (outcome.ok || !outcome.retryable || !turn_.answer.empty() || stale(number)) break;
      log(log_level::warn, "LLM request failed: trying once more", {{"call_sid", call_sid_}, {"reason", outcome.error}});
      asio::steady_timer backoff(executor_);
      backoff.expires_after(std::chrono::milliseconds(250));
      co_await backoff.async_wait(use_tuple);
      if (stale(number)) break;
    }
    if (stale(number)) {
      metrics().llm_requests.inc("cancelled");
      co_return;
    }
    turn_.llm_active = false;
    if (!outcome.ok) {
      metrics().llm_requests.inc("failed");
      log(log_level::error, "LLM request failed", {{"call_sid", call_sid_}, {"reason", outcome.error}});
      if (turn_.answer.empty()) {
        fail("the LLM did not answer");
        co_return;
      }
    } else {
      metrics().llm_requests.inc("ok");
    }
    if (auto rest = chunker.finish()) speak(std::move(*rest));
    end_of_answer();
    const std::vector<llm::tool_call> calls = outcome.tool_calls;
    remember_answer(calls);
    for (std::size_t i = 0; i < calls.size(); ++i) {  // (a braced body. GCC 12: docs/gcc12-coroutines.md)
      co_await run_tool(calls[i]);
    }
  }

  void remember_answer(std::vector<llm::tool_call> tool_calls) {
    history_.push_back({"assistant", turn_.answer, std::move(tool_calls), {}});
    turn_.history_index = history_.size() - 1;
    facts_.add_agent_text(turn_.answer, turn_.number);
  }

  // The gateway's tools, as in the agent mode: end_call (after the goodbye has played) and transfer_to_number.
  asio::awaitable<void> run_tool(const llm::tool_call& call) {
    log(log_level::info, "LLM tool call", {{"call_sid", call_sid_}, {"tool", call.name}});
    if (call.name == llm::end_call_tool || call.name == "hang_up") {
      tool_result(call, "ok");
      ending_ = true;
      const auto deadline = steady_clock::now() + settings_.goodbye_cap;
      while (!ended_ && (turn_.spoken.playing() || !turn_.tts_final) && steady_clock::now() < deadline) {
        goodbye_.expires_at(deadline);
        auto [ec] = co_await goodbye_.async_wait(use_tuple);
        (void)ec;
      }
      if (ended_) co_return;
      caller_.hang_up();
      finish(agent_end::served);
      co_return;
    }
    if (call.name != llm::transfer_tool) {
      tool_result(call, "unknown tool " + call.name);
      co_return;
    }
    boost::json::error_code ec;
    const auto arguments = boost::json::parse(call.arguments_json, ec);
    const auto* number_value = !ec && arguments.is_object() ? arguments.get_object().if_contains("phone_number") : nullptr;
    const std::string to = number_value && number_value->is_string() ? std::string(number_value->get_string()) : "";
    if (!twilio::is_e164(to)) {
      tool_result(call, "transfer_to_number needs phone_number in E.164 (+15551234567)");
      co_return;
    }
    tool_result(call, "transferring the caller");
    caller_.transfer(to);
  }

  void tool_result(const llm::tool_call& call, std::string result) {
    history_.push_back({"tool", std::move(result), {}, call.id});
  }

  // The caller spoke over the agent: stop its audio at once, stop writing the answer, and keep in the
  // history only what the caller heard.
  void barge_in() {
    if (ending_ || turn_.number == 0 || turn_.spoken.interrupted()) return;
    ++barge_ins_;
    metrics().barge_ins.inc();
    turn_.spoken.interrupt();
    caller_.clear_audio();
    const bool was_writing = turn_.llm_active;
    if (was_writing) {
      turn_.llm_active = false;
      cancel_answer();
    }
    if (!turn_.context_closed) {
      send_tts(elevenlabs::serialize_tts_close_context(turn_.context));
      turn_.context_closed = true;
    }
    const std::string heard = turn_.spoken.heard();
    if (turn_.history_index) {
      history_[*turn_.history_index].content = heard;
      facts_.correct_agent_text(turn_.number, heard);
    } else if (!heard.empty()) {  // the answer was still being written: what was heard of it
      turn_.answer = heard;
      remember_answer({});
    }
    log(log_level::info, "barge-in", {{"call_sid", call_sid_}, {"turn", turn_.number}, {"heard_chars", heard.size()},
                                      {"llm_cancelled", was_writing ? "true" : "false"}});
  }

  void cancel_answer() {
    if (llm_in_flight_ > 0 && llm_cancel_) llm_cancel_->emit(asio::cancellation_type::terminal);
  }

  asio::any_io_executor executor_;
  caller_link& caller_;
  const pipeline_settings& settings_;
  std::string call_sid_;
  speech_socket stt_, tts_;
  asio::steady_timer keepalive_, goodbye_, llm_done_;
  std::shared_ptr<asio::cancellation_signal> llm_cancel_;  // of the request in flight
  std::vector<llm::chat_message> history_;
  agent_turn turn_;
  records::call_record facts_;  // the transcript, for the call record
  steady_clock::time_point started_ = steady_clock::now(), last_stt_send_, last_tts_send_;
  std::optional<std::int64_t> first_audio_ms_;
  agent_end end_ = agent_end::served;
  int turns_ = 0, llm_in_flight_ = 0, tts_reconnects_ = 0;
  std::uint64_t barge_ins_ = 0;
  bool connected_ = false, running_ = false, ended_ = false, ending_ = false;
};

}  // namespace

std::unique_ptr<agent> make_pipeline_agent(const asio::any_io_executor& executor, caller_link& caller,
                                           const pipeline_settings& settings, std::string call_sid) {
  return std::make_unique<pipeline_agent>(executor, caller, settings, std::move(call_sid));
}

}  // namespace voicebridge::pipeline
