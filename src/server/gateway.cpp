// Listener and HTTP sessions (Beast's awaitable server shape): one coroutine per connection, HTTP/1.1
// keep-alive, and a hand-over to the call session when Twilio upgrades to the Media Streams WebSocket.
#include "voicebridge/server/gateway.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <future>

#include "app/report_escape.hpp"
#include "call/completed_calls.hpp"
#include "call/twilio_stream.hpp"
#include "records/record_writer.hpp"
#include "net/call_executor.hpp"
#include "server/calls_api.hpp"
#include "server/configured_agents.hpp"
#include "server/console/console.hpp"
#include "server/campaign_api.hpp"
#include "server/routing.hpp"
#include "server/http_replies.hpp"
#include "server/shared_streams.hpp"
#include "server/stream_upgrade.hpp"
#include "server/twilio_webhooks.hpp"
#include "server/webhook_sender.hpp"
#include "net/tls_context.hpp"
#include "util/late_callback.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/webhook.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using app::log;
using app::log_level;
using app::metrics;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

twilio::rest_settings rest_settings(const app::config& config) {
  twilio::rest_settings s{config.twilio_api_base, config.twilio_account_sid, config.twilio_auth_token, nullptr};
  s.tls = tls_for(s.api_base);
  return s;
}

}  // namespace

// Which routes a listener serves: the main port has everything (and /metrics unless METRICS_ADDRESS is set),
// the admin port /metrics, /healthz and the console (which is on the main port without it).
enum class listener_kind { main, admin };

struct gateway::impl : std::enable_shared_from_this<gateway::impl> {
  asio::io_context& io;
  app::config config;
  const unsigned io_threads = config.io_threads();  // resolved once, not at every accept
  tcp::acceptor acceptor;
  tcp::acceptor admin_acceptor;
  call::completed_calls completed;
  call::call_registry active;
  call::admission admitted;
  call::pending_streams pending{config.max_pending_streams, config.max_pending_streams_per_address};
  call::amd_results machine_verdicts;  // from Twilio's AMD webhook to the outbound calls waiting for them
  const std::string instance = config.instance_id;  // this instance's name in the rows it claims or leases
  asio::thread_pool disk_pool{1};      // recordings and voicemails: never written on an io thread
  asio::thread_pool database_pool{1};  // the read API's queries: never on an io thread
  call::precall_answers precalls;     // the pre-call webhook's answers, for the agents that wait for them
  std::shared_ptr<asio::ssl::context> webhook_tls = net::make_client_tls_context();  // the business's receivers
  routing routes;                      // before the records: their writer asks which routes want webhooks
  util::late_callback wake_webhooks;   // the writer queued a delivery
  records::record_writer records;
  // Several instances (DATABASE_URL): where each stream is, for the <Connect action> request on any of them.
  std::unique_ptr<shared_streams> shared =
      config.database_url.empty() ? nullptr
                                  : std::make_unique<shared_streams>(config, records::open_postgres(config.database_url));
  call::stream_services services;
  twilio_webhooks webhooks;
  outbound_services outbound;
  std::shared_ptr<campaign_runner> campaigns;
  std::shared_ptr<webhook_sender> deliveries;
  std::atomic<bool> deliveries_started = false;
  std::atomic<bool> draining = false;
  std::atomic<bool> stopping = false;  // the listeners are closed
  console::console_context console{config, records.store(), database_pool, active, routes, draining, stopping,
                                   [this] { return pending.size(); },
                                   [this](console::http_request req) -> asio::awaitable<console::http_response> {
                                     co_return co_await serve_outbound_api(req, draining, outbound, *campaigns, *deliveries);
                                   },
                                   records::now_epoch_ms()};

  impl(asio::io_context& io_, app::config cfg)
      : io(io_),
        config(std::move(cfg)),
        acceptor(io_),
        admin_acceptor(io_),
        admitted(config.prewarm_timeout),
        routes(io_, config, disk_pool, &precalls),
        records(records::open_configured_store(config), config.state_dir / "records.spool",
                {[this](const std::string& route) {
                   return !postcall_settings(*routes.table(), config, route).postcall_webhook_url.empty();
                 },
                 config.postcall_status_wait,
                 [this] { wake_webhooks(); }},
                std::chrono::milliseconds(1000),
                config.database_url.empty() ? records::call_audio_home::local_disk : records::call_audio_home::also_in_store),
        services{config, completed, active, admitted, routes, records, disk_pool, rest_settings(config), machine_verdicts,
                 shared.get()},
        webhooks{config, routes, active, admitted, records, machine_verdicts},
        outbound{config, routes, active, records, database_pool, webhooks, rest_settings(config)},
        campaigns(std::make_shared<campaign_runner>(io_.get_executor(), outbound, instance)),
        deliveries(std::make_shared<webhook_sender>(asio::make_strand(io_), outbound, instance, webhook_tls)) {
    webhooks.on_campaign_call_end = [this](campaign_call_end end) { campaigns->call_ended(std::move(end), shared_from_this()); };
    webhooks.precalls = &precalls;
    webhooks.shared = shared.get();
    if (shared)
      shared->on_fresh_stream = [this](const std::string& call_sid, const fresh_stream& stream) {
        webhooks.prewarm_fresh_stream(call_sid, stream);
      };
    webhooks.webhook_tls = webhook_tls;
    webhooks.ask_precall = [this](precall_request request, signed_post post) {
      // On a strand of its own: the request and its deadline race in one coroutine.
      asio::co_spawn(asio::make_strand(io), ask_precall(std::move(request), std::move(post), precalls),
                     [self = shared_from_this(), report = app::report_escape("precall")](std::exception_ptr e) { report(e); });
    };
    wake_webhooks.set([sender = std::weak_ptr(deliveries)] {
      if (auto s = sender.lock()) s->wake();
    });
  }
  // Every call has ended by now (each held this object): let the files and the records they queued land.
  ~impl() {
    disk_pool.join();
    wake_webhooks.set(nullptr);
  }

  // The post-call sender runs once any route in force has a receiver (at start, or after a reload).
  void start_deliveries_if_wanted() {
    if (any_postcall_receiver(*routes.table(), config) && !deliveries_started.exchange(true))
      deliveries->start(shared_from_this());
  }

  // Binds, listens and starts accepting; the bound port (useful with port 0). Throws on bind errors.
  static std::uint16_t open_listener(const std::shared_ptr<impl>& self, tcp::acceptor& acceptor,
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
  // Each connection gets the executor of a call (call_executor): its coroutines never run at once.
  static asio::awaitable<void> listen(std::shared_ptr<impl> self, tcp::acceptor& acceptor, listener_kind kind) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(net::call_executor(self->io, self->io_threads), use_tuple);
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
      socket.set_option(tcp::no_delay(true), ec);  // 20 ms audio frames must not wait for Nagle
      asio::co_spawn(socket.get_executor(), session(std::move(socket), self, kind), app::report_escape("connection"));
    }
  }

  static asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<impl> self, listener_kind kind) {
    co_await self->serve(beast::tcp_stream(std::move(socket)), kind);
  }

  asio::awaitable<void> serve(beast::tcp_stream stream, listener_kind kind) {
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
        co_await upgrade_to_stream(std::move(stream), std::move(req), config, pending, services, draining, std::move(self));
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

  response handle(const request& req, listener_kind kind) {
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

  std::variant<twilio::form_params, twilio::http_answer> authenticate(const request& req) const {
    return twilio::authenticate_request(
        {req.target(), req[http::field::content_type], req["X-Twilio-Signature"], req.body()}, config);
  }

  static response to_response(const request& req, twilio::http_answer answer) {
    return twilio_reply(std::move(answer), req.version(), req.keep_alive());
  }

  static bool is_stream_ended_request(const request& req) {
    const std::string_view target = req.target();
    return req.method() == http::verb::post && target.substr(0, target.find('?')) == app::stream_ended_path;
  }

  asio::awaitable<response> shared_stream_ended(const request& req) {
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

  response twilio_response(const request& req, std::string_view path) {
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

  static response method_not_allowed(const request& req) {
    return text_response(405, "method not allowed\n", req.version(), req.keep_alive());
  }


  asio::awaitable<bool> write(beast::tcp_stream& stream, response res) {
    const bool ok = co_await write_response(stream, std::move(res), config.http_timeout);
    co_return ok;
  }
};

gateway::gateway(asio::io_context& io, app::config config) : impl_(std::make_shared<impl>(io, std::move(config))) {}

gateway::~gateway() {
  stop_accepting();
  // A coroutine that awaits work on one of our threads resumes on the io_context, which our owner destroys
  // next. With the loops stopped (nothing new starts), let what is under way there finish first: a completion
  // that landed on a destroyed io_context would write freed memory (seen as a crash in the next test case).
  if (impl_->shared) impl_->shared->stop();
  impl_->database_pool.join();
}

std::uint16_t gateway::start() {
  const auto& config = impl_->config;
  const auto port = impl::open_listener(impl_, impl_->acceptor, config.bind_address, config.port, listener_kind::main);
  log(log_level::info, "listening", {{"address", config.bind_address}, {"port", port}, {"stream_url", config.stream_url()}});
  if (!config.admin_token.empty() && !config.twilio_account_sid.empty()) impl_->campaigns->start(impl_);
  impl_->start_deliveries_if_wanted();
  if (impl_->shared) impl_->shared->start();
  if (!config.metrics_address.empty()) {
    const auto admin = app::split_host_port(config.metrics_address);
    if (!admin) throw std::invalid_argument("METRICS_ADDRESS is not host:port");
    const auto admin_port = impl::open_listener(impl_, impl_->admin_acceptor, admin->host, admin->port, listener_kind::admin);
    log(log_level::info, "metrics listening", {{"address", admin->host}, {"port", admin_port}});
  }
  return port;
}

void gateway::stop_accepting() {
  impl_->stopping = true;
  impl_->campaigns->stop();  // no more dials; the calls placed go on
  impl_->deliveries->stop();  // what is queued stays in the store, for the next start or another instance
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->admin_acceptor.close(ignored);
}

void gateway::begin_drain() {
  impl_->draining = true;
  impl_->campaigns->stop();
  app::metrics().draining.set(1);
}

void gateway::end_calls(bool terminal) {
  impl_->active.close_all(terminal ? asio::cancellation_type::terminal : asio::cancellation_type::total);
}

asio::awaitable<bool> gateway::calls_ended(std::chrono::steady_clock::time_point deadline) {
  // A concurrent channel: the last call ends on its own strand, maybe on another thread. Its one slot keeps a
  // wake-up sent before this waits.
  auto ended = std::make_shared<asio::experimental::concurrent_channel<void(boost::system::error_code)>>(
      co_await asio::this_coro::executor, 1);
  impl_->active.when_empty([ended] { ended->try_send(boost::system::error_code()); });
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  co_await (ended->async_receive(use_tuple) || timer.async_wait(use_tuple));
  co_return impl_->active.size() == 0;
}

std::uint16_t gateway::metrics_port() const {
  beast::error_code ec;
  auto endpoint = impl_->admin_acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

std::size_t gateway::active_calls() const { return impl_->active.size(); }
std::size_t gateway::pending_streams() const { return impl_->pending.size(); }
const app::config& gateway::config() const { return impl_->config; }
const std::vector<std::uint8_t>& gateway::fallback_prompt(std::string_view route) const {
  const auto found = impl_->routes.find({}, route);
  if (!found) throw std::out_of_range("no route named " + std::string(route));
  return *found->fallback.prompt;  // kept by the routes in force (a test's accessor: no reload meanwhile)
}

std::optional<std::string> gateway::reload_routes() {
  auto error = impl_->routes.reload();
  if (!error) impl_->start_deliveries_if_wanted();
  return error;
}
// Records reach the writer through the disk thread (behind their call's files): that drains first.
static bool drain_disk(asio::thread_pool& disk, std::chrono::steady_clock::time_point deadline) {
  auto drained = std::make_shared<std::promise<void>>();
  auto done = drained->get_future();
  asio::post(disk, [drained] { drained->set_value(); });
  return done.wait_until(deadline) == std::future_status::ready;
}

static std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
}

bool gateway::wait_records_stored(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  return drain_disk(impl_->disk_pool, deadline) && impl_->records.wait_stored(left_until(deadline));
}

bool gateway::flush_records(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  return drain_disk(impl_->disk_pool, deadline) && impl_->records.wait_handled(left_until(deadline));
}

}  // namespace voicebridge::server
