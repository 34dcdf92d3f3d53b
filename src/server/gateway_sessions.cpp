// Listener and HTTP sessions (Beast's awaitable server shape): one coroutine per connection, HTTP/1.1
// keep-alive, and a hand-over to the call session when Twilio upgrades to the Media Streams WebSocket.
#include "server/gateway_impl.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using app::log;
using app::log_level;
using app::metrics;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

}  // namespace

// Binds, listens and starts accepting; the bound port (useful with port 0). Throws on bind errors.
std::uint16_t gateway::impl::open_listener(const std::shared_ptr<impl>& self, tcp::acceptor& acceptor,
                                          const std::string& host, std::uint16_t port, listener_kind kind) {
  const tcp::endpoint endpoint(asio::ip::make_address(host), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(self->io, listen(self, acceptor, kind), app::report_escape("connection"));
  return acceptor.local_endpoint().port();
}

// Static and holding `self`, as the sessions do: the server object may be destroyed while this waits.
// Connections are spread over the io threads in turn (net/call_contexts.hpp); a stream whose URL names another
// moves there at its upgrade. Each is accepted on the listener's own io_context and moved after: an accept
// still pending when the loops stop then holds no socket of a context destroyed before it.
asio::awaitable<void> gateway::impl::listen(std::shared_ptr<impl> self, tcp::acceptor& acceptor, listener_kind kind) {
  for (;;) {
    auto [ec, accepted] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: log, count, and keep serving the calls we have; a short pause, or a full
      // descriptor table would make this loop spin.
      metrics().limit_hits.inc("accept_failed");
      log(log_level::error, "accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(self->io, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    accepted.set_option(tcp::no_delay(true), ec);  // 20 ms audio frames must not wait for Nagle
    auto socket = net::move_socket(accepted, self->contexts.at(self->contexts.next()));
    if (!socket) continue;  // closed: the peer sees its connection refused
    asio::co_spawn(socket->get_executor(), session(std::move(*socket), self, kind), app::report_escape("connection"));
  }
}

asio::awaitable<void> gateway::impl::session(tcp::socket socket, std::shared_ptr<impl> self, listener_kind kind) {
  co_await self->serve(beast::tcp_stream(std::move(socket)), kind);
}

asio::awaitable<void> gateway::impl::serve(beast::tcp_stream stream, listener_kind kind) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config.max_http_header));
    // The bound depends on what the header asks for (a campaign's list may be long): Beast checks a
    // Content-Length against the limit when the header ends, so the header is read under the largest and
    // its length checked here; the limit set after it bounds a chunked body.
    parser.body_limit(largest_body_limit(config));
    stream.expires_after(config.http_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (!ec) {
      const auto limit = kind == listener_kind::main ? body_limit_for(parser.get(), config) : config.max_http_body;
      parser.body_limit(limit);
      if (parser.content_length() && *parser.content_length() > limit) {
        ec = http::error::body_limit;
      } else {
        auto [body_ec, body_n] = co_await http::async_read(stream, buffer, parser, use_tuple);
        ec = body_ec;
      }
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      const bool body = ec == http::error::body_limit;
      metrics().limit_hits.inc(body ? "http_body_size" : "http_header_size");
      log(log_level::warn, "request refused: too large", {{"part", body ? "body" : "header"}});
      // A named local (GCC 12: docs/gcc12-coroutines.md).
      response res = body ? text_response(413, "request body too large\n", parser.get().version(), false)
                          : text_response(431, "request header fields too large\n", 11, false);
      co_await write(stream, std::move(res));
      break;
    }
    if (ec) break;  // closed, timed out or malformed: nothing to answer
    request req = parser.release();
    if (kind == listener_kind::main && beast::websocket::is_upgrade(req)) {
      auto self = shared_from_this();  // named (GCC 12: docs/gcc12-coroutines.md)
      co_await upgrade_to_stream(std::move(stream), std::move(req), config, pending, services, contexts, draining,
                                 std::move(self));
      co_return;
    }
    if (kind == listener_kind::main && is_outbound_api(req)) {
      // They wait on the call store (its own thread), some on Twilio's API: answered here, async.
      response res = co_await serve_outbound_api(req, draining, outbound, *campaigns, *deliveries);
      const bool keep_alive = res.keep_alive();
      if (!co_await write(stream, std::move(res)) || !keep_alive) break;
      continue;
    }
    if (kind == listener_kind::main && shared && is_stream_ended_request(req)) {
      // Answered from the shared store (its own thread): the stream may have been served by another instance.
      response res = co_await shared_stream_ended(req);
      metrics().webhook_responses.inc(std::to_string(res.result_int()));
      const bool keep_alive = res.keep_alive();
      if (!co_await write(stream, std::move(res)) || !keep_alive) break;
      continue;
    }
    // The console: on the admin listener when there is one, else on the main port.
    if (console::is_console(req.target()) && (kind == listener_kind::admin) == !config.metrics_address.empty()) {
      if (!co_await console::serve_console(stream, req, console)) break;
      continue;
    }
    if (kind == listener_kind::main && is_calls_api(req.target())) {
      // Answered from the database (on its own thread) or streamed from a file.
      if (!co_await serve_calls_api(stream, req, records.store(), database_pool, config)) break;
      continue;
    }
    response res = handle(req, kind);
    const bool keep_alive = res.keep_alive();
    if (!co_await write(stream, std::move(res)) || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

response gateway::impl::handle(const request& req, listener_kind kind) {
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (path == app::health_path) {
    if (!get) return method_not_allowed(req);
    // A draining gateway tells the load balancer to send new calls elsewhere.
    if (draining) return text_response(503, "draining\n", req.version(), req.keep_alive());
    return text_response(200, "ok\n", req.version(), req.keep_alive());
  }
  if (path == app::metrics_path && (kind == listener_kind::admin || config.metrics_address.empty())) {
    if (!get) return method_not_allowed(req);
    auto res = text_response(200, app::render_metrics(), req.version(), req.keep_alive());
    res.set(http::field::content_type, app::metrics_content_type);
    return res;
  }
  if (kind == listener_kind::admin) return text_response(404, "not found\n", req.version(), req.keep_alive());
  if (path == app::voice_webhook_path || path == app::stream_ended_path || path == app::status_callback_path ||
      path == app::amd_callback_path) {
    if (req.method() != http::verb::post) return method_not_allowed(req);
    auto res = twilio_response(req, path);
    metrics().webhook_responses.inc(std::to_string(res.result_int()));
    return res;
  }
  return text_response(404, "not found\n", req.version(), req.keep_alive());
}

std::variant<twilio::form_params, twilio::http_answer> gateway::impl::authenticate(const request& req) const {
  return twilio::authenticate_request(
      {req.target(), req[http::field::content_type], req["X-Twilio-Signature"], req.body()}, config);
}

response gateway::impl::to_response(const request& req, twilio::http_answer answer) {
  return twilio_reply(std::move(answer), req.version(), req.keep_alive());
}

bool gateway::impl::is_stream_ended_request(const request& req) {
  const std::string_view target = req.target();
  return req.method() == http::verb::post && target.substr(0, target.find('?')) == app::stream_ended_path;
}

asio::awaitable<response> gateway::impl::shared_stream_ended(const request& req) {
  auto auth = authenticate(req);
  twilio::http_answer answer;
  if (auto* params = std::get_if<twilio::form_params>(&auth)) {
    const bool served = completed.contains(std::string(params->get_or("CallSid", "")));
    answer = co_await shared->answer_stream_ended(std::move(*params), served, draining);
  } else {
    answer = std::get<twilio::http_answer>(auth);
  }
  co_return to_response(req, std::move(answer));
}

response gateway::impl::twilio_response(const request& req, std::string_view path) {
  // Draining: Twilio moves new calls to the number's fallback URL on a 5xx.
  if (draining && path == app::voice_webhook_path) {
    log(log_level::info, "voice webhook refused: draining");
    return text_response(503, "draining\n", req.version(), false);
  }
  auto auth = authenticate(req);
  twilio::http_answer answer;
  if (auto* params = std::get_if<twilio::form_params>(&auth)) {
    if (path == app::voice_webhook_path) {
      answer = webhooks.answer_voice(*params);
    } else if (path == app::status_callback_path) {
      answer = webhooks.answer_status(*params, req.target());
    } else if (path == app::amd_callback_path) {
      answer = webhooks.answer_amd(*params);
    } else {
      const std::string call_sid(params->get_or("CallSid", ""));
      const bool served = completed.contains(call_sid);
      log(log_level::info, "stream ended callback", {{"call_sid", call_sid}, {"served", served ? "true" : "false"}});
      answer = twilio::answer_stream_ended(served, config);
    }
  } else {
    answer = std::get<twilio::http_answer>(auth);
  }
  return to_response(req, std::move(answer));
}

response gateway::impl::method_not_allowed(const request& req) {
  return text_response(405, "method not allowed\n", req.version(), req.keep_alive());
}


asio::awaitable<bool> gateway::impl::write(beast::tcp_stream& stream, response res) {
  const bool ok = co_await write_response(stream, std::move(res), config.http_timeout);
  co_return ok;
}

}  // namespace voicebridge::server
