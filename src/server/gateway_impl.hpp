// The gateway's state, shared by gateway.cpp (start, drain, stop) and gateway_sessions.cpp (the listeners and
// each connection's requests). Private to those two files.
#pragma once
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
#include "net/call_contexts.hpp"
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

// Which routes a listener serves: the main port has everything (and /metrics unless METRICS_ADDRESS is set),
// the admin port /metrics, /healthz and the console (which is on the main port without it).
enum class listener_kind { main, admin };

struct gateway::impl : std::enable_shared_from_this<gateway::impl> {
  using request = boost::beast::http::request<boost::beast::http::string_body>;
  using response = boost::beast::http::response<boost::beast::http::string_body>;
  boost::asio::io_context& io;  // the listeners, the signals' and the stores' completions; calls too
  app::config config;
  net::call_contexts contexts;  // where connections and calls run: `io`, then one io_context per other io thread
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::ip::tcp::acceptor admin_acceptor;
  call::completed_calls completed;
  call::call_registry active;
  call::admission admitted;
  call::pending_streams pending{config.max_pending_streams, config.max_pending_streams_per_address};
  call::amd_results machine_verdicts;  // from Twilio's AMD webhook to the outbound calls waiting for them
  const std::string instance = config.instance_id;  // this instance's name in the rows it claims or leases
  boost::asio::thread_pool disk_pool{1};      // recordings and voicemails: never written on an io thread
  boost::asio::thread_pool database_pool{1};  // the read API's queries: never on an io thread
  call::precall_answers precalls;     // the pre-call webhook's answers, for the agents that wait for them
  std::shared_ptr<boost::asio::ssl::context> webhook_tls = net::make_client_tls_context();  // the business's receivers
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
                                   [this](console::http_request req) -> boost::asio::awaitable<console::http_response> {
                                     co_return co_await serve_outbound_api(req, draining, outbound, *campaigns, *deliveries);
                                   },
                                   records::now_epoch_ms()};


  impl(boost::asio::io_context& io_, app::config cfg, std::vector<boost::asio::io_context*> more_io);
  ~impl();
  void start_deliveries_if_wanted();

  // The listeners and the HTTP sessions (gateway_sessions.cpp).
  static std::uint16_t open_listener(const std::shared_ptr<impl>& self, boost::asio::ip::tcp::acceptor& acceptor,
                                     const std::string& host, std::uint16_t port, listener_kind kind);
  static boost::asio::awaitable<void> listen(std::shared_ptr<impl> self, boost::asio::ip::tcp::acceptor& acceptor,
                                            listener_kind kind);
  static boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket, std::shared_ptr<impl> self,
                                             listener_kind kind);
  boost::asio::awaitable<void> serve(boost::beast::tcp_stream stream, listener_kind kind);
  response handle(const request& req, listener_kind kind);
  std::variant<twilio::form_params, twilio::http_answer> authenticate(const request& req) const;
  static response to_response(const request& req, twilio::http_answer answer);
  static bool is_stream_ended_request(const request& req);
  boost::asio::awaitable<response> shared_stream_ended(const request& req);
  response twilio_response(const request& req, std::string_view path);
  static response method_not_allowed(const request& req);
  boost::asio::awaitable<bool> write(boost::beast::tcp_stream& stream, response res);
};

}  // namespace voicebridge::server
