#include "llm/chat_client.hpp"

#include <array>
#include <boost/asio/this_coro.hpp>
#include <span>

#include "net/http_client.hpp"

namespace voicebridge::llm {
namespace asio = boost::asio;

namespace {

chat_outcome failure(std::string error, bool retryable, unsigned status = 0) {
  chat_outcome o;
  o.error = std::move(error);
  o.retryable = retryable;
  o.http_status = status;
  return o;
}

// Reads the event stream as it comes, each read bounded by the idle timeout.
asio::awaitable<chat_outcome> read_answer(net::http_client& client, const chat_settings& settings,
                                          const std::function<void(std::string_view)>& on_text) {
  sse_parser events_parser(settings.max_answer_bytes);
  tool_call_builder tools;
  chat_outcome outcome;
  std::vector<std::string> events;
  std::array<char, 4096> storage;
  const std::span<char> chunk(storage);  // a named span (GCC 12: docs/gcc12-coroutines.md)
  while (!client.done()) {
    std::size_t got = 0;
    if (auto ec = co_await client.read_some(chunk, got, settings.idle_timeout))
      co_return failure(client.failure(ec), ec != asio::error::operation_aborted && ec != net::error::response_too_large);
    if (!events_parser.feed(std::string_view(chunk.data(), got), events)) co_return failure("an event over the size limit", false);
    for (const auto& data : events) {
      if (data == "[DONE]") {
        outcome.ok = true;
        outcome.tool_calls = tools.take();
        co_return outcome;
      }
      auto delta = parse_chat_chunk(data);
      if (!delta) co_return failure(delta.error().message, false);
      if (!delta->content.empty()) on_text(delta->content);
      for (const auto& t : delta->tool_calls) tools.add(t);
      if (!delta->finish_reason.empty()) outcome.finish_reason = delta->finish_reason;
    }
    events.clear();
  }
  // Some servers end the body without [DONE]: a complete body is a complete answer.
  outcome.ok = true;
  outcome.tool_calls = tools.take();
  co_return outcome;
}

}  // namespace

asio::awaitable<chat_outcome> stream_chat(const chat_settings& settings, const std::vector<chat_message>& messages,
                                          std::function<void(std::string_view)> on_text) {
  auto address = net::parse_service_url(settings.base_url);
  if (!address || (address->scheme != "http" && address->scheme != "https"))
    co_return failure("LLM_BASE_URL is not an http(s) URL", false);
  net::http_request request;
  request.verb = net::http_request::method::post;
  request.target = address->target.substr(0, address->target.find('?'));
  while (request.target.ends_with('/')) request.target.pop_back();
  request.target += "/chat/completions";
  request.headers.emplace_back("Accept", "text/event-stream");
  if (!settings.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + settings.api_key);
  request.content_type = "application/json";
  request.body = serialize_chat_request(settings.model, messages);

  net::http_client client(co_await asio::this_coro::executor, settings.tls);
  // connect_timeout bounds everything until the response headers; then each read has the idle timeout.
  if (auto ec = co_await client.send(*address, request, settings.connect_timeout, settings.max_answer_bytes)) {
    const bool retryable = ec != asio::error::operation_aborted && ec != net::error::no_tls_context;
    co_return failure(client.failure(ec), retryable);
  }
  const unsigned status = client.status();
  if (status != 200) co_return failure("HTTP " + std::to_string(status), status == 429 || status >= 500, status);
  auto outcome = co_await read_answer(client, settings, on_text);
  co_return outcome;
}

}  // namespace voicebridge::llm
