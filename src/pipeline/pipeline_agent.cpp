#include "pipeline/pipeline_agent.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <optional>

#include "app/report_escape.hpp"
#include "call/gateway_tools.hpp"
#include "pipeline/speech_endpoints.hpp"
#include "pipeline/speech_socket.hpp"
#include "pipeline/turn_state.hpp"
#include "util/overloaded.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/elevenlabs/speech_messages.hpp"
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

std::int64_t ms_since(steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t).count();
}

std::string silent_frame() {
  const std::vector<std::uint8_t> silence(160, 0xFF);  // 20 ms of mu-law silence
  return util::base64_encode(silence);
}

class pipeline_agent final : public agent {
 public:
  pipeline_agent(const asio::any_io_executor& executor, caller_link& caller, const pipeline_settings& settings,
                 std::string call_sid)
      : executor_(executor),
        caller_(caller),
        settings_(settings),
        call_sid_(std::move(call_sid)),
        stt_(executor, stt_socket_settings(settings), call_sid_,
             [this](std::string_view m) { on_stt(m); }),
        tts_(executor, tts_socket_settings(settings), call_sid_,
             [this](std::string_view m) { on_tts(m); }),
        keepalive_(executor),
        goodbye_(executor),
        llm_done_(executor),
        state_(settings.system_prompt, settings.max_history) {}

  void on_caller_audio(std::string_view payload_base64) override {
    if (ended_) return;
    stt_.send(elevenlabs::serialize_stt_audio(payload_base64));
    last_stt_send_ = steady_clock::now();
    metrics().frames_to_agent.inc();
  }
  void on_dtmf(char digit) override {
    if (running_) start_turn("(" + call::dtmf_sentence(digit) + ")");
  }
  void on_mark(std::string_view name) override {
    state_.mark_played(name);
    goodbye_.cancel();  // an end_call goodbye waits for its last mark
  }
  void on_caller_hangup() override { finish(agent_end::served); }
  void on_context(const std::string& text) override { state_.add_context(text); }

  asio::awaitable<agent_end> run() override {
    started_ = steady_clock::now();
    bool stt_refused = false, tts_refused = false;
    auto [stt_error, tts_error] = co_await (stt_.connect(stt_refused) && tts_.connect(tts_refused));
    if (stt_error || tts_error) {
      log(log_level::error, "pipeline unavailable",
          {{"call_sid", call_sid_}, {"stt", stt_error ? stt_.failure(stt_error) : "ok"},
           {"tts", tts_error ? tts_.failure(tts_error) : "ok"}});
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
    log(log_level::info, "pipeline ended", {{"call_sid", call_sid_}, {"turns", state_.turns()}, {"barge_ins", state_.barge_ins()}});
    co_return end_;
  }

  void describe(records::call_record& record) const override {
    if (first_audio_ms_) record.first_agent_audio_ms = first_audio_ms_;
    record.barge_ins += state_.barge_ins();
    if (connected_) {
      record.agent_close_codes.push_back(stt_.close_code());
      record.agent_close_codes.push_back(tts_.close_code());
    }
    const auto& transcript = state_.transcript().transcript;
    record.transcript.insert(record.transcript.end(), transcript.begin(), transcript.end());
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
        send_tts(elevenlabs::serialize_tts_keepalive(state_.open_context()));
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
                     turn_actions out;
                     state_.partial_transcript(p.text, out);
                     carry_out(out);
                   },
                   [&](elevenlabs::stt_committed& c) { start_turn(std::move(c.text)); },
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
                     state_.tts_final(f.context_id);
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
    const auto& turn = state_.turn();
    const bool first_of_turn = !turn.first_audio_seen;
    const auto mark = state_.audio_chunk(audio.context_id, std::move(audio.text), !audio.audio_base64.empty());
    if (!mark) return;
    metrics().frames_from_agent.inc();
    const auto now = steady_clock::now();
    if (!first_audio_ms_) {
      first_audio_ms_ = ms_since(started_);
      metrics().first_agent_audio_seconds.observe(now - started_);
    }
    if (turn.user_turn_ended && first_of_turn) log_answer_started(turn, now);
    caller_.send_audio(audio.audio_base64);
    caller_.send_mark(*mark);
  }

  // From the end of the caller's turn: the LLM's first token, its first phrase handed to TTS, the first audio
  // sent to the caller. The last two apart is the TTS round trip plus the gateway's own work.
  void log_answer_started(const agent_turn& turn, steady_clock::time_point now) {
    const auto since_turn = [&](const std::optional<steady_clock::time_point>& t) {
      if (!t) return std::string("none");
      char text[32];
      std::snprintf(text, sizeof text, "%.1f", std::chrono::duration<double, std::milli>(*t - *turn.user_turn_ended).count());
      return std::string(text);
    };
    metrics().turn_first_audio_seconds.observe(now - *turn.user_turn_ended);
    log(log_level::info, "answer started",
        {{"call_sid", call_sid_}, {"turn", turn.number}, {"llm_first_token_ms", since_turn(turn.first_token)},
         {"first_phrase_ms", since_turn(turn.first_phrase)}, {"ms_after_user_turn", since_turn(now)}});
  }

  void send_tts(std::string message) {
    tts_.send(std::move(message));
    last_tts_send_ = steady_clock::now();
  }

  // The actions of one event, in order: the TTS messages, the caller's audio, the LLM request.
  // Lines the transcript gained since the last look, to the caller's side (kept as the call goes: a fresh
  // stream after a crash tells its agent what was said).
  void tell_new_lines() {
    const auto& lines = state_.transcript().transcript;
    for (; lines_told_ < lines.size(); ++lines_told_) caller_.said(lines[lines_told_].role, lines[lines_told_].text);
  }

  void carry_out(turn_actions& out) {
    tell_new_lines();
    for (auto& message : out.to_tts) send_tts(std::move(message));
    if (out.clear_caller_audio) caller_.clear_audio();
    if (out.cancel_answer) cancel_answer();
    if (out.barged_in) {
      metrics().barge_ins.inc();
      log(log_level::info, "barge-in", {{"call_sid", call_sid_}, {"turn", out.barged_in->turn},
                                        {"heard_chars", out.barged_in->heard_chars},
                                        {"llm_cancelled", out.barged_in->llm_cancelled ? "true" : "false"}});
    }
    if (out.ask_llm) ask_llm(*out.ask_llm);
  }

  void greet() {
    turn_actions out;
    state_.greet(settings_.greeting, out);
    carry_out(out);
  }

  void resume_turn_after_reconnect() {
    tts_.clear_queue();  // messages for contexts of the old socket
    turn_actions out;
    state_.tts_reconnected(out);
    carry_out(out);
  }

  void start_turn(std::string user_text) {
    if (ended_) return;
    turn_actions out;
    state_.user_turn(std::move(user_text), out);
    tell_new_lines();
    if (!out.ask_llm) return;
    const auto& turn = state_.transcript().transcript;  // the user's line, as the LLM gets it
    if (!turn.empty()) {
      log(log_level::info, "user turn", {{"call_sid", call_sid_}, {"chars", turn.back().text.size()}});
      log(log_level::debug, "user text", {{"call_sid", call_sid_}, {"text", turn.back().text}});
    }
    carry_out(out);
  }

  void ask_llm(int number) {
    ++llm_in_flight_;
    // A signal per request: a cancelled request may still be finishing when the next one starts.
    auto cancel = std::make_shared<asio::cancellation_signal>();
    llm_cancel_ = cancel;
    asio::co_spawn(executor_, answer(number, state_.history()),
                   asio::bind_cancellation_slot(cancel->slot(), [this, cancel](std::exception_ptr e) {
                     app::report_escape("llm_answer")(e);  // a barge-in's cancellation at debug, a bug at error
                     if (--llm_in_flight_ == 0) llm_done_.cancel();
                   }));
  }

  bool stale(int number) const { return ended_ || !state_.current(number); }

  // Streams the answer to `number` phrase by phrase into its TTS context; one more try for a failure that
  // may pass, before any of the answer was said.
  asio::awaitable<void> answer(int number, std::vector<llm::chat_message> messages) {
    const std::function<void(std::string_view)> on_text = [this, number](std::string_view token) {
      if (stale(number)) return;
      turn_actions out;
      state_.answer_text(number, token, out);
      carry_out(out);
    };
    llm::chat_outcome outcome;
    for (int attempt = 0; attempt < 2; ++attempt) {
      outcome = co_await llm::stream_chat(settings_.llm, messages, on_text);
      if (outcome.ok || !outcome.retryable || state_.answer_started() || stale(number)) break;
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
    metrics().llm_requests.inc(outcome.ok ? "ok" : "failed");
    if (!outcome.ok) {
      log(log_level::error, "LLM request failed", {{"call_sid", call_sid_}, {"reason", outcome.error}});
      if (!state_.answer_started()) {
        fail("the LLM did not answer");
        co_return;
      }
    }
    const std::vector<llm::tool_call> calls = outcome.tool_calls;
    turn_actions out;
    state_.answer_done(number, calls, out);
    carry_out(out);
    for (std::size_t i = 0; i < calls.size(); ++i) {  // (a braced body. GCC 12: docs/gcc12-coroutines.md)
      co_await run_tool(calls[i]);
    }
  }

  // The gateway's tools, as in the agent mode: end_call (after the goodbye has played) and transfer_to_number.
  asio::awaitable<void> run_tool(const llm::tool_call& call) {
    log(log_level::info, "LLM tool call", {{"call_sid", call_sid_}, {"tool", call.name}});
    const auto request = call::read_tool_call(call.name, call.arguments_json);
    state_.tool_result(call, request.result);
    if (request.what == call::tool_request::kind::transfer) caller_.transfer(request.number);
    if (request.what != call::tool_request::kind::end_call) co_return;
    state_.begin_goodbye();
    const auto deadline = steady_clock::now() + settings_.goodbye_cap;
    while (!ended_ && state_.goodbye_playing() && steady_clock::now() < deadline) {
      goodbye_.expires_at(deadline);
      auto [ec] = co_await goodbye_.async_wait(use_tuple);
      (void)ec;
    }
    if (ended_) co_return;
    caller_.hang_up();
    finish(agent_end::served);
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
  turn_state state_;
  steady_clock::time_point started_ = steady_clock::now(), last_stt_send_, last_tts_send_;
  std::optional<std::int64_t> first_audio_ms_;
  agent_end end_ = agent_end::served;
  int llm_in_flight_ = 0;
  std::size_t lines_told_ = 0;  // of the transcript, given to caller_.said
  bool connected_ = false, running_ = false, ended_ = false;
};

}  // namespace

std::unique_ptr<agent> make_pipeline_agent(const asio::any_io_executor& executor, caller_link& caller,
                                           const pipeline_settings& settings, std::string call_sid) {
  return std::make_unique<pipeline_agent>(executor, caller, settings, std::move(call_sid));
}

}  // namespace voicebridge::pipeline
