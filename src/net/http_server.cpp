// Listener and HTTP sessions (Beast's awaitable server shape): one coroutine per connection, HTTP/1.1
// keep-alive, and a hand-over to the call session when Twilio upgrades to the Media Streams WebSocket.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "call/completed_calls.hpp"
#include "call/local_agent.hpp"
#include "call/twilio_stream.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/audio/wav.hpp"
#include "voicebridge/net/server.hpp"
#include "voicebridge/twilio/webhook.hpp"

namespace voicebridge::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using app::log;
using app::log_level;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

std::shared_ptr<const std::vector<std::uint8_t>> load_greeting(const app::config& config) {
  if (!config.local_greeting_wav) return std::make_shared<const std::vector<std::uint8_t>>(call::make_greeting_tone());
  auto wav = audio::read_wav_file(*config.local_greeting_wav);
  if (!wav) throw app::config_error("LOCAL_GREETING_WAV: " + wav.error().message);
  return std::make_shared<const std::vector<std::uint8_t>>(audio::to_mulaw_8k(*wav));
}

// Logs what escapes a connection coroutine; a bug in one connection never takes the server down.
void log_if_failed(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log(log_level::error, "connection failed with an exception", {{"error", ex.what()}});
  }
}

}  // namespace

struct server::impl {
  asio::io_context& io;
  app::config config;
  tcp::acceptor acceptor;
  call::completed_calls completed;
  call::stream_services services;
  std::size_t calls = 0;

  impl(asio::io_context& io_, app::config cfg)
      : io(io_),
        config(std::move(cfg)),
        acceptor(io_),
        services{config, completed, load_greeting(config),
                 {config.elevenlabs_base_url, config.elevenlabs_agent_id, config.elevenlabs_api_key,
                  config.agent_connect_timeout, config.dtmf_as_user_message, config.agent_config_override}} {
    if (config.elevenlabs_base_url.starts_with("https://")) services.agent.tls = elevenlabs::make_client_tls_context();
  }

  // Static and holding `self`, as the sessions do: the server object may be destroyed while this waits.
  static asio::awaitable<void> listen(std::shared_ptr<impl> self) {
    auto& acceptor = self->acceptor;
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // EMFILE and friends: log and keep serving the calls we have.
        log(log_level::error, "accept failed", {{"error", ec.message()}});
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);  // 20 ms audio frames must not wait for Nagle
      asio::co_spawn(socket.get_executor(), session(std::move(socket), self), log_if_failed);
    }
  }

  static asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<impl> self) {
    co_await self->serve(beast::tcp_stream(std::move(socket)));
  }

  asio::awaitable<void> serve(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(config.max_http_body);
      stream.expires_after(config.http_timeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (ec == http::error::body_limit) {
        co_await write(stream, text_response(413, "request body too large\n", parser.get().version(), false));
        break;
      }
      if (ec) break;  // closed, timed out or malformed: nothing to answer
      request req = parser.release();
      if (beast::websocket::is_upgrade(req)) {
        co_await upgrade(std::move(stream), std::move(req));
        co_return;
      }
      response res = handle(req);
      const bool keep_alive = res.keep_alive();
      if (!co_await write(stream, std::move(res)) || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> upgrade(beast::tcp_stream stream, request req) {
    const std::string_view path = req.target().substr(0, req.target().find('?'));
    if (path != app::stream_path) {
      co_await write(stream, text_response(404, "not found\n", req.version(), false));
      co_return;
    }
    if (config.twilio_auth_token.empty() || config.twilio_stream_token.empty()) {
      log(log_level::error, "stream refused: TWILIO_AUTH_TOKEN or TWILIO_STREAM_TOKEN is not configured");
      co_await write(stream, text_response(500, "gateway not configured\n", req.version(), false));
      co_return;
    }
    auto auth = call::check_upgrade(req, config);
    if (!auth) {
      log(log_level::warn, "stream upgrade refused: invalid credentials", {{"path", path}});
      co_await write(stream, text_response(403, "forbidden\n", req.version(), false));
      co_return;
    }
    ++calls;
    co_await call::serve_twilio_stream(std::move(stream), std::move(req), *auth, services);
    --calls;
  }

  response handle(const request& req) {
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == app::health_path) {
      if (req.method() != http::verb::get && req.method() != http::verb::head) return method_not_allowed(req);
      return text_response(200, "ok\n", req.version(), req.keep_alive());
    }
    if (path == app::voice_webhook_path || path == app::stream_ended_path) {
      if (req.method() != http::verb::post) return method_not_allowed(req);
      auto auth = twilio::authenticate_request(
          {target, req[http::field::content_type], req["X-Twilio-Signature"], req.body()}, config);
      twilio::http_answer answer;
      if (auto* params = std::get_if<twilio::form_params>(&auth)) {
        if (path == app::voice_webhook_path) {
          answer = twilio::answer_voice_webhook(*params, config, std::chrono::system_clock::now());
        } else {
          const std::string call_sid(params->get_or("CallSid", ""));
          const bool served = completed.contains(call_sid);
          log(log_level::info, "stream ended callback", {{"call_sid", call_sid}, {"served", served ? "true" : "false"}});
          answer = twilio::answer_stream_ended(served, config);
        }
      } else {
        answer = std::get<twilio::http_answer>(auth);
      }
      response res{static_cast<http::status>(answer.status), req.version()};
      res.set(http::field::content_type, answer.content_type);
      res.body() = std::move(answer.body);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      return res;
    }
    return text_response(404, "not found\n", req.version(), req.keep_alive());
  }

  static response method_not_allowed(const request& req) {
    return text_response(405, "method not allowed\n", req.version(), req.keep_alive());
  }

  static response text_response(unsigned status, std::string body, unsigned version, bool keep_alive) {
    response res{static_cast<http::status>(status), version};
    res.set(http::field::server, "voicebridge");
    res.set(http::field::content_type, "text/plain");
    res.body() = std::move(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
  }

  asio::awaitable<bool> write(beast::tcp_stream& stream, response res) {
    res.set(http::field::server, "voicebridge");
    stream.expires_after(config.http_timeout);
    auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
    co_return !ec;
  }
};

server::server(asio::io_context& io, app::config config) : impl_(std::make_shared<impl>(io, std::move(config))) {}

server::~server() { stop_accepting(); }

std::uint16_t server::start() {
  auto& acceptor = impl_->acceptor;
  const tcp::endpoint endpoint(asio::ip::make_address(impl_->config.bind_address), impl_->config.port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(impl_->io, impl::listen(impl_), log_if_failed);
  const auto port = acceptor.local_endpoint().port();
  log(log_level::info, "listening", {{"address", impl_->config.bind_address}, {"port", port},
                                     {"stream_url", impl_->config.stream_url()}});
  return port;
}

void server::stop_accepting() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

std::size_t server::active_calls() const { return impl_->calls; }
const app::config& server::config() const { return impl_->config; }

}  // namespace voicebridge::net
