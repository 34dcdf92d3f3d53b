// One streamed Chat Completions request to an OpenAI-compatible endpoint over http:// or https://: the
// answer's text is handed on as it arrives, tool calls at the end. Cancelling the awaiting coroutine (its
// cancellation slot) aborts the request and closes the connection.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "voicebridge/llm/chat_messages.hpp"

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::llm {

struct chat_settings {
  std::string base_url;  // e.g. https://api.openai.com/v1 ; the request goes to base_url + /chat/completions
  std::string api_key;   // Authorization: Bearer; never logged
  std::string model;
  std::chrono::milliseconds connect_timeout{5000};  // connect + TLS + request + response headers
  std::chrono::milliseconds idle_timeout{15000};    // between two reads of the streamed answer
  std::size_t max_answer_bytes = 1 << 20;           // one answer's stream, all events together
  std::shared_ptr<boost::asio::ssl::context> tls;   // for https
};

struct chat_outcome {
  bool ok = false;
  bool retryable = false;  // connect failure, timeout, 429 or 5xx: another try may succeed
  unsigned http_status = 0;
  std::string error;  // why it failed, for the log (no credential in it)
  std::vector<tool_call> tool_calls;
  std::string finish_reason;
};

boost::asio::awaitable<chat_outcome> stream_chat(const chat_settings& settings, const std::vector<chat_message>& messages,
                                                 std::function<void(std::string_view)> on_text);

}  // namespace voicebridge::llm
