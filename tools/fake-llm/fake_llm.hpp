// A local stand-in for an OpenAI-compatible Chat Completions endpoint (POST /v1/chat/completions with
// stream: true): it checks the bearer key and the request's shape, and streams a scripted answer token by
// token as Server-Sent Events over chunked transfer encoding, as the hosted APIs do. It can call a tool
// when the caller's words ask for it, fail on purpose, and notices a client that goes away mid-answer.
#pragma once
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace voicebridge::fake {

struct llm_script {
  std::string api_key;  // set: Authorization: Bearer <key> is required (401 otherwise)
  // One per request, in order; the last repeats. "{user}" is replaced by the last user message.
  std::vector<std::string> answers{"You said: {user} How else can I help?"};
  int token_delay_ms = 40;  // between streamed tokens
  // When the last user message contains `tool_trigger`, the answer ends with a call of `tool_name`.
  std::string tool_trigger = "goodbye";
  std::string tool_name = "end_call";
  std::string tool_arguments = "{}";
  unsigned fail_status = 0;    // answer every request with this HTTP status
  int fail_first = 0;          // the first N requests get 503
  int first_token_delay_ms = 0;  // before the first token (a slow model)
  std::string tls_certificate_chain;  // PEM files: serve https instead of http
  std::string tls_private_key;
};

struct llm_record {
  std::vector<std::string> requests;  // request bodies, in order
  int completed = 0;                  // answers streamed to the end
  int abandoned = 0;                  // answers the client closed before the end (cancelled)
  int unauthorized = 0;
  std::vector<std::string> violations;  // request shape problems (tests require none)
};

class fake_llm_server {
 public:
  fake_llm_server(boost::asio::io_context& io, llm_script script, std::uint16_t port = 0);
  ~fake_llm_server();
  std::uint16_t port() const;
  const llm_record& record() const;
  llm_script& script();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace voicebridge::fake
