// The pipeline's conversation, sans-I/O (as call/call_state): the history sent to the LLM, the agent turn
// being spoken (its TTS context, phrases and what the caller heard of them), barge-in, the resumption of a
// turn after a TTS reconnect, and the history's bounds. Events in, actions out: the messages for the TTS
// socket, what to do to the caller's audio and the LLM request. pipeline_agent carries them out.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/spoken_turn.hpp"
#include "records/call_record.hpp"
#include "voicebridge/llm/chat_messages.hpp"

namespace voicebridge::pipeline {

struct turn_actions {
  std::vector<std::string> to_tts;  // in order
  bool clear_caller_audio = false;  // the caller spoke over the agent: flush what Twilio still plays
  bool cancel_answer = false;       // the LLM request in flight writes a turn nobody hears any more
  std::optional<int> ask_llm;       // start the LLM's answer to this turn, with history()
  struct barge_in_facts {
    int turn = 0;
    std::size_t heard_chars = 0;
    bool llm_cancelled = false;
  };
  std::optional<barge_in_facts> barged_in;
};

// One agent turn: the greeting, or the answer to one user turn.
struct agent_turn {
  int number = 0;                    // 0: none yet
  std::string context;               // its TTS context
  std::vector<std::string> phrases;  // sent to TTS, in order (said again after a TTS reconnect)
  std::size_t received_chars = 0;    // of the phrases, spoken back in audio so far (from the alignment)
  std::string answer;                // the LLM's text so far
  llm::phrase_chunker chunker;
  spoken_turn spoken;
  bool llm_active = false;  // the answer is still being written
  bool context_closed = false;
  bool tts_final = false;
  int chunks = 0;
  std::optional<std::size_t> history_index;  // its assistant message, once the answer is complete
  // Where the time to the first audio goes: the LLM's first token, the first phrase handed to TTS.
  std::optional<std::chrono::steady_clock::time_point> user_turn_ended, first_token, first_phrase;
  bool first_audio_seen = false;
};

class turn_state {
 public:
  // One answer, or one user turn, is at most this long (some 3 minutes of speech): it bounds the history.
  static constexpr std::size_t max_turn_chars = 4000;

  turn_state(std::string system_prompt, std::size_t max_history);

  // The greeting, spoken without the LLM.
  void greet(const std::string& greeting, turn_actions& out);
  // A committed user turn (speech-to-text, or a key as text): the agent stops if it was speaking, and a
  // new turn asks the LLM. Ignored once the agent is saying goodbye.
  void user_turn(std::string text, turn_actions& out);
  // A partial transcript while the agent speaks is a barge-in.
  void partial_transcript(std::string_view text, turn_actions& out);
  // What the agent should know that the caller did not say (a resumed call: what was said before): added to
  // the system prompt, which every LLM request carries and the history's trimming keeps.
  void add_context(std::string_view text);

  // The LLM's answer to `number`: false once it is stale (another turn began, or the caller spoke over it).
  bool current(int number) const;
  void answer_text(int number, std::string_view token, turn_actions& out);
  // The answer is complete (`ok`), or failed after some of it was said: the rest to TTS, the context closed.
  void answer_done(int number, std::vector<llm::tool_call> tool_calls, turn_actions& out);
  bool answer_started() const { return !turn_.answer.empty(); }
  void tool_result(const llm::tool_call& call, std::string result);

  // A TTS audio chunk: the mark to send after it toward the caller, or nullopt when it is not to be played
  // (another context, an interrupted turn, no audio).
  std::optional<std::string> audio_chunk(std::string_view context, std::string text, bool has_audio);
  void tts_final(std::string_view context);
  void mark_played(std::string_view mark) { turn_.spoken.played(mark); }
  // The TTS socket reconnected: its contexts are gone. Say again, in a new context, what had not come back.
  void tts_reconnected(turn_actions& out);

  // end_call: no new turn from now on; the goodbye plays while goodbye_playing().
  void begin_goodbye() { ending_ = true; }
  bool ending() const { return ending_; }
  bool goodbye_playing() const { return turn_.spoken.playing() || !turn_.tts_final; }
  bool speaking() const;
  // The context a keep-alive belongs to ("" for none).
  std::string open_context() const;

  const agent_turn& turn() const { return turn_; }
  const std::vector<llm::chat_message>& history() const { return history_; }
  const records::call_record& transcript() const { return transcript_; }
  int turns() const { return turns_; }
  std::uint64_t barge_ins() const { return barge_ins_; }

 private:
  void begin_agent_turn(turn_actions& out);
  void speak(std::string phrase, turn_actions& out);
  void end_of_answer(turn_actions& out);
  void remember_answer(std::vector<llm::tool_call> tool_calls);
  void barge_in(turn_actions& out);
  void trim_history();

  std::vector<llm::chat_message> history_;
  std::size_t max_history_;
  agent_turn turn_;
  records::call_record transcript_;
  int turns_ = 0, tts_reconnects_ = 0;
  std::uint64_t barge_ins_ = 0;
  bool ending_ = false;
};

}  // namespace voicebridge::pipeline
