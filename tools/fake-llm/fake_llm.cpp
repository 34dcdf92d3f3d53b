#include "fake-llm/fake_llm.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include "common/stand_in_listener.hpp"
#include "common/report_escape.hpp"

namespace voicebridge::fake {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// "You said: hi." -> "You", " said:", " hi." (as models stream: a word with the space before it).
std::vector<std::string> tokens_of(const std::string& text) {
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t end = text.find(' ', i + 1);
    if (end == std::string::npos) end = text.size();
    tokens.push_back(text.substr(i, end - i));
    i = end;
  }
  return tokens;
}

std::string chunk_event(json::object delta, const char* finish_reason = nullptr) {
  json::object choice{{"index", 0}, {"delta", std::move(delta)}};
  choice["finish_reason"] = finish_reason ? json::value(finish_reason) : json::value(nullptr);
  return "data: " +
         json::serialize(json::object{{"id", "chatcmpl-fake"}, {"object", "chat.completion.chunk"},
                                      {"choices", json::array{std::move(choice)}}}) +
         "\n\n";
}

// One HTTP/1.1 chunk of the chunked transfer encoding.
std::string http_chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

}  // namespace

struct fake_llm_server::impl {
  llm_script script;
  llm_record record;
  stand_in_listener listener;
  int requests_failed = 0;

  impl(asio::io_context& io, llm_script s, std::uint16_t port)
      : script(std::move(s)), listener(io, port, script.tls_certificate_chain, script.tls_private_key) {}

  // Checks the request as an OpenAI-compatible server would; the last user message, or why it is wrong.
  std::string last_user_message(const json::value& body) {
    const auto* o = body.if_object();
    if (!o) {
      record.violations.push_back("body is not a JSON object");
      return "";
    }
    if (!o->contains("model") || !o->at("model").is_string()) record.violations.push_back("no model");
    if (!o->contains("stream") || o->at("stream") != true) record.violations.push_back("stream is not true");
    const auto* messages = o->if_contains("messages");
    if (!messages || !messages->is_array() || messages->get_array().empty()) {
      record.violations.push_back("no messages");
      return "";
    }
    std::string user;
    for (const auto& m : messages->get_array()) {
      const auto* role = m.is_object() ? m.get_object().if_contains("role") : nullptr;
      const auto* content = m.is_object() ? m.get_object().if_contains("content") : nullptr;
      if (!role || !role->is_string() || !content || !(content->is_string() || content->is_null())) {
        record.violations.push_back("a message without role or content");
        continue;
      }
      if (*role == "user") user = std::string(content->get_string());
      if (*role == "tool" && !m.get_object().contains("tool_call_id")) record.violations.push_back("a tool message without tool_call_id");
    }
    return user;
  }

  template <class Stream>  // beast::tcp_stream, or TLS over one
  asio::awaitable<void> serve(Stream stream) {
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(4 << 20);
    if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple); ec) co_return;
    const auto& req = parser.get();
    // (const char*, not std::string. GCC 12: docs/gcc12-coroutines.md)
    auto refuse = [&](unsigned status, const char* message) -> asio::awaitable<void> {
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.set(http::field::content_type, "application/json");
      res.body() = json::serialize(json::object{{"error", {{"message", message}, {"type", "fake"}}}});
      res.prepare_payload();
      co_await http::async_write(stream, res, use_tuple);
    };
    if (req.method() != http::verb::post || !req.target().ends_with("/chat/completions")) {
      co_await refuse(404, "no such endpoint");
      co_return;
    }
    if (!script.api_key.empty() && req[http::field::authorization] != "Bearer " + script.api_key) {
      ++record.unauthorized;
      co_await refuse(401, "Incorrect API key provided");
      co_return;
    }
    record.requests.push_back(req.body());
    json::error_code jec;
    const auto body = json::parse(req.body(), jec);
    if (jec) record.violations.push_back("body is not JSON");
    const std::string user = jec ? std::string() : last_user_message(body);
    if (script.fail_status || requests_failed < script.fail_first) {
      ++requests_failed;
      co_await refuse(script.fail_status ? script.fail_status : 503, "scripted failure");
      co_return;
    }

    std::string answer = script.answers[std::min(record.requests.size() - 1, script.answers.size() - 1)];
    if (const auto at = answer.find("{user}"); at != std::string::npos) answer.replace(at, 6, user);
    std::vector<std::string> events;
    events.push_back(chunk_event({{"role", "assistant"}, {"content", ""}}));
    for (const auto& token : tokens_of(answer)) events.push_back(chunk_event({{"content", token}}));
    const bool tool = !script.tool_trigger.empty() && user.find(script.tool_trigger) != std::string::npos;
    if (tool) {
      const std::string half = script.tool_arguments.substr(0, script.tool_arguments.size() / 2);
      events.push_back(chunk_event({{"tool_calls", json::array{{{"index", 0}, {"id", "call_fake_1"}, {"type", "function"},
                                                              {"function", {{"name", script.tool_name}, {"arguments", half}}}}}}}));
      events.push_back(chunk_event({{"tool_calls", json::array{{{"index", 0},
                                                              {"function", {{"arguments", script.tool_arguments.substr(half.size())}}}}}}}));
    }
    events.push_back(chunk_event(json::object{}, tool ? "tool_calls" : "stop"));
    events.push_back("data: [DONE]\n\n");

    beast::get_lowest_layer(stream).expires_never();
    auto& sock = stream;
    const std::string header =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    if (auto [ec, n] = co_await asio::async_write(sock, asio::buffer(header), use_tuple); ec) co_return;
    asio::steady_timer pause(sock.get_executor());
    char probe;
    for (std::size_t i = 0; i < events.size(); ++i) {
      // Between tokens, a read that completes means the client closed: the request was cancelled.
      pause.expires_after(std::chrono::milliseconds(i == 1 && script.first_token_delay_ms ? script.first_token_delay_ms
                                                                                           : script.token_delay_ms));
      auto waited = co_await (pause.async_wait(use_tuple) || sock.async_read_some(asio::buffer(&probe, 1), use_tuple));
      if (waited.index() == 1) {
        ++record.abandoned;
        co_return;
      }
      const std::string chunk = http_chunk(events[i]);
      if (auto [ec, n] = co_await asio::async_write(sock, asio::buffer(chunk), use_tuple); ec) {
        ++record.abandoned;
        co_return;
      }
    }
    const std::string last_chunk = "0\r\n\r\n";
    co_await asio::async_write(sock, asio::buffer(last_chunk), use_tuple);
    ++record.completed;
    co_await finish_http_stream(stream);
  }
};

fake_llm_server::fake_llm_server(asio::io_context& io, llm_script script, std::uint16_t port)
    : impl_(std::make_shared<impl>(io, std::move(script), port)) {
  asio::co_spawn(io, accept_connections(impl_, impl_->listener,
                                        [self = impl_](auto stream) { return self->serve(std::move(stream)); }),
                 voicebridge::tools::report_escape("fake LLM listener"));
}
fake_llm_server::~fake_llm_server() {
  impl_->listener.close();
}
std::uint16_t fake_llm_server::port() const { return impl_->listener.port(); }
const llm_record& fake_llm_server::record() const { return impl_->record; }
llm_script& fake_llm_server::script() { return impl_->script; }

}  // namespace voicebridge::fake
