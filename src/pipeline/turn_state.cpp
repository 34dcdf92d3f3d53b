#include "pipeline/turn_state.hpp"

#include "voicebridge/elevenlabs/speech_messages.hpp"

namespace voicebridge::pipeline {
using std::chrono::steady_clock;

namespace {
constexpr double voice_stability = 0.5, voice_similarity = 0.8;  // sent once per context, never changed

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// At a character boundary: the LLM wants valid UTF-8.
void truncate_utf8(std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
}
}  // namespace

turn_state::turn_state(std::string system_prompt, std::size_t max_history) : max_history_(max_history) {
  history_.push_back({"system", std::move(system_prompt), {}, {}});
}

bool turn_state::speaking() const {
  return turn_.number > 0 && !turn_.spoken.interrupted() && (turn_.llm_active || !turn_.tts_final || turn_.spoken.playing());
}

std::string turn_state::open_context() const { return turn_.number > 0 && !turn_.context_closed ? turn_.context : ""; }

bool turn_state::current(int number) const { return number == turn_.number && !turn_.spoken.interrupted(); }

// A new agent turn in a new TTS context. The previous turn's context is closed first, so at most two are
// open at any time (the socket allows five).
void turn_state::begin_agent_turn(turn_actions& out) {
  if (turn_.number > 0 && !turn_.context_closed) out.to_tts.push_back(elevenlabs::serialize_tts_close_context(turn_.context));
  turn_ = agent_turn{};
  turn_.number = ++turns_;
  turn_.context = "turn-" + std::to_string(turn_.number);
  out.to_tts.push_back(elevenlabs::serialize_tts_init(turn_.context, voice_stability, voice_similarity));
}

void turn_state::speak(std::string phrase, turn_actions& out) {
  if (!turn_.first_phrase) turn_.first_phrase = steady_clock::now();
  out.to_tts.push_back(elevenlabs::serialize_tts_text(turn_.context, phrase));
  turn_.phrases.push_back(std::move(phrase));
}

// Everything is sent: generate the rest, and close the context so isFinal follows the last audio.
void turn_state::end_of_answer(turn_actions& out) {
  out.to_tts.push_back(elevenlabs::serialize_tts_flush(turn_.context));
  out.to_tts.push_back(elevenlabs::serialize_tts_close_context(turn_.context));
  turn_.context_closed = true;
}

void turn_state::remember_answer(std::vector<llm::tool_call> tool_calls) {
  history_.push_back({"assistant", turn_.answer, std::move(tool_calls), {}});
  turn_.history_index = history_.size() - 1;
  transcript_.add_agent_text(turn_.answer, turn_.number);
}

void turn_state::greet(const std::string& greeting, turn_actions& out) {
  begin_agent_turn(out);
  speak(greeting + " ", out);
  end_of_answer(out);
  turn_.answer = greeting;
  remember_answer({});
}

void turn_state::user_turn(std::string text, turn_actions& out) {
  if (ending_ || blank(text)) return;
  truncate_utf8(text, max_turn_chars);
  if (speaking()) barge_in(out);
  transcript_.add_user_text(text, turns_ + 1);
  history_.push_back({"user", std::move(text), {}, {}});
  trim_history();
  begin_agent_turn(out);
  turn_.user_turn_ended = steady_clock::now();
  turn_.llm_active = true;
  out.ask_llm = turn_.number;
}

void turn_state::partial_transcript(std::string_view text, turn_actions& out) {
  if (!blank(text) && speaking()) barge_in(out);
}

void turn_state::add_context(std::string_view text) {
  if (blank(text)) return;
  auto& system = history_.front().content;
  if (!system.empty()) system += "\n\n";
  system += text;
}

void turn_state::trim_history() {
  while (history_.size() > max_history_ + 1) {
    history_.erase(history_.begin() + 1);  // never the system prompt
    // A tool result must follow the assistant message that called it.
    while (history_.size() > 1 && history_[1].role == "tool") history_.erase(history_.begin() + 1);
  }
}

void turn_state::answer_text(int number, std::string_view token, turn_actions& out) {
  if (!current(number) || turn_.answer.size() + token.size() > max_turn_chars) return;
  if (!turn_.first_token) turn_.first_token = steady_clock::now();
  turn_.answer += token;
  if (auto phrase = turn_.chunker.add(token)) speak(std::move(*phrase), out);
}

void turn_state::answer_done(int number, std::vector<llm::tool_call> tool_calls, turn_actions& out) {
  if (!current(number)) return;
  turn_.llm_active = false;
  if (auto rest = turn_.chunker.finish()) speak(std::move(*rest), out);
  end_of_answer(out);
  remember_answer(std::move(tool_calls));
}

void turn_state::tool_result(const llm::tool_call& call, std::string result) {
  history_.push_back({"tool", std::move(result), {}, call.id});
}

std::optional<std::string> turn_state::audio_chunk(std::string_view context, std::string text, bool has_audio) {
  if (context != turn_.context || turn_.spoken.interrupted() || !has_audio) return std::nullopt;
  turn_.first_audio_seen = true;
  turn_.received_chars += text.size();
  std::string mark = turn_.context + "." + std::to_string(++turn_.chunks);
  turn_.spoken.sent(mark, std::move(text));
  return mark;
}

void turn_state::tts_final(std::string_view context) {
  if (context == turn_.context) turn_.tts_final = true;
}

// The old socket took the turn's context with it: say again, in a new context, the phrases whose audio
// had not come back yet (a phrase cut in the middle is said again whole).
void turn_state::tts_reconnected(turn_actions& out) {
  if (turn_.number == 0 || turn_.spoken.interrupted() || (turn_.tts_final && !turn_.llm_active)) return;
  turn_.context = "turn-" + std::to_string(turn_.number) + "-r" + std::to_string(++tts_reconnects_);
  out.to_tts.push_back(elevenlabs::serialize_tts_init(turn_.context, voice_stability, voice_similarity));
  std::size_t offset = 0;
  for (const auto& phrase : turn_.phrases) {
    offset += phrase.size();
    if (offset > turn_.received_chars) out.to_tts.push_back(elevenlabs::serialize_tts_text(turn_.context, phrase));
  }
  turn_.tts_final = false;
  turn_.context_closed = false;
  if (!turn_.llm_active) end_of_answer(out);
}

// The caller spoke over the agent: stop its audio at once, stop writing the answer, and keep in the
// history only what the caller heard.
void turn_state::barge_in(turn_actions& out) {
  if (ending_ || turn_.number == 0 || turn_.spoken.interrupted()) return;
  ++barge_ins_;
  turn_.spoken.interrupt();
  out.clear_caller_audio = true;
  const bool was_writing = turn_.llm_active;
  if (was_writing) {
    turn_.llm_active = false;
    out.cancel_answer = true;
  }
  if (!turn_.context_closed) {
    out.to_tts.push_back(elevenlabs::serialize_tts_close_context(turn_.context));
    turn_.context_closed = true;
  }
  const std::string heard = turn_.spoken.heard();
  if (turn_.history_index) {
    history_[*turn_.history_index].content = heard;
    transcript_.correct_agent_text(turn_.number, heard);
  } else if (!heard.empty()) {  // the answer was still being written: what was heard of it
    turn_.answer = heard;
    remember_answer({});
  }
  out.barged_in = turn_actions::barge_in_facts{turn_.number, heard.size(), was_writing};
}

}  // namespace voicebridge::pipeline
