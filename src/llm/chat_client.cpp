#include "llm/chat_client.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "net/client.hpp"

namespace voicebridge::llm {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

chat_outcome failure(std::string error, bool retryable, unsigned status = 0) {
  chat_outcome o;
  o.error = std::move(error);
  o.retryable = retryable;
  o.http_status = status;
  return o;
}

// Sends the request, then reads the event stream as it comes, each read bounded by the idle timeout.
template <class Stream>
asio::awaitable<chat_outcome> exchange(Stream& stream, const http::request<http::string_body>& req,
                                       const chat_settings& settings, const std::function<void(std::string_view)>& on_text) {
  if (auto [ec, n] = co_await http::async_write(stream, req, use_tuple); ec) co_return failure("send: " + ec.message(), true);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(settings.max_answer_bytes);
  if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple); ec)
    co_return failure("read: " + ec.message(), ec != asio::error::operation_aborted);
  const unsigned status = parser.get().result_int();
  if (status != 200)
    co_return failure("HTTP " + std::to_string(status), status == 429 || status >= 500, status);

  sse_parser events_parser(settings.max_answer_bytes);
  tool_call_builder tools;
  chat_outcome outcome;
  std::vector<std::string> events;
  std::array<char, 4096> chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    beast::get_lowest_layer(stream).expires_after(settings.idle_timeout);
    auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, use_tuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return failure("read: " + ec.message(), ec != asio::error::operation_aborted);
    const std::size_t got = chunk.size() - parser.get().body().size;
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
  const auto address = net::parse_service_url(settings.base_url);
  const auto url = boost::urls::parse_uri(settings.base_url);
  if (!address || !url) co_return failure("LLM_BASE_URL is not an http(s) URL", false);
  std::string target(url->encoded_path());
  while (target.ends_with('/')) target.pop_back();
  target += "/chat/completions";

  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, address->host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "text/event-stream");
  if (!settings.api_key.empty()) req.set(http::field::authorization, "Bearer " + settings.api_key);
  req.body() = serialize_chat_request(settings.model, messages);
  req.prepare_payload();

  beast::tcp_stream tcp(co_await asio::this_coro::executor);
  tcp.expires_after(settings.connect_timeout);  // until the response headers; then per read
  if (auto error = co_await net::connect_tcp(tcp, address->host, address->port); !error.empty())
    co_return failure(error, true);
  if (!address->tls) {
    auto outcome = co_await exchange(tcp, req, settings, on_text);
    co_return outcome;
  }
  if (!settings.tls) co_return failure("no TLS context for an https LLM_BASE_URL", false);
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *settings.tls);
  if (auto ec = co_await net::tls_client_handshake(stream, address->host); ec)
    co_return failure("TLS handshake: " + ec.message(), true);
  auto outcome = co_await exchange(stream, req, settings, on_text);
  co_return outcome;
}

}  // namespace voicebridge::llm
