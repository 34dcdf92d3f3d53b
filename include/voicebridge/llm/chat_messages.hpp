// OpenAI-compatible Chat Completions with `stream: true`, as plain functions and small state objects: the
// request body, an incremental Server-Sent Events parser, the streamed deltas (text and tool calls), and
// the phrase chunking that hands text to speech synthesis while the answer is still being written.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "voicebridge/util/result.hpp"

namespace voicebridge::llm {

struct tool_call {
  std::string id;
  std::string name;
  std::string arguments_json;
};

struct chat_message {
  std::string role;  // system, user, assistant, tool
  std::string content;
  std::vector<tool_call> tool_calls;  // assistant messages that called tools
  std::string tool_call_id;           // tool messages: the call they answer
};

// The gateway's own tools, offered to the model: end_call (hang up after the goodbye) and
// transfer_to_number (hand the caller to a human), as in the agent mode.
inline constexpr std::string_view end_call_tool = "end_call";
inline constexpr std::string_view transfer_tool = "transfer_to_number";

std::string serialize_chat_request(std::string_view model, const std::vector<chat_message>& messages);

// Server-Sent Events, fed with whatever bytes arrived: collects the `data:` lines of each event (joined
// with '\n') and hands out complete events. Comments, `event:`, `id:` and `retry:` lines are ignored;
// CRLF, LF and CR line ends are all accepted. One event may not exceed `max_event_bytes`.
class sse_parser {
 public:
  explicit sse_parser(std::size_t max_event_bytes = 1 << 20) : max_event_bytes_(max_event_bytes) {}
  // Appends the data of every event these bytes complete to `events`; false once an event was too large.
  bool feed(std::string_view bytes, std::vector<std::string>& events);

 private:
  void end_line(std::vector<std::string>& events);

  std::string line_, data_;
  bool has_data_ = false;
  bool after_cr_ = false;
  std::size_t max_event_bytes_;
};

// One streamed chunk: {"choices":[{"delta":{"content":..., "tool_calls":[...]}, "finish_reason":...}]}.
struct tool_call_delta {
  std::size_t index = 0;
  std::string id, name, arguments;  // fragments: id and name come once, arguments in pieces
};
struct chat_delta {
  std::string content;
  std::vector<tool_call_delta> tool_calls;
  std::string finish_reason;
};
// The data "[DONE]" ends the stream and is not a chunk. An {"error":{...}} object is returned as an error.
util::result<chat_delta> parse_chat_chunk(std::string_view data);

// Puts the streamed fragments of each tool call back together, by index.
class tool_call_builder {
 public:
  void add(const tool_call_delta& delta);
  std::vector<tool_call> take();

 private:
  std::vector<tool_call> calls_;
};

// Tokens in, phrases out: a phrase ends at a sentence end (. ! ? ; :) followed by a space, at a new line,
// at a comma once it is long enough to be worth synthesizing, or at a space once it is too long to wait.
// Every phrase ends with one space, as the TTS socket wants.
class phrase_chunker {
 public:
  std::optional<std::string> add(std::string_view token);
  std::optional<std::string> finish();  // what is left at the end of the answer

  static constexpr std::size_t comma_after = 40;
  static constexpr std::size_t force_after = 160;

 private:
  std::optional<std::string> take(std::size_t end);
  std::string pending_;
};

}  // namespace voicebridge::llm
