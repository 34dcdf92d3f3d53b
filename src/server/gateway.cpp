// The gateway: its parts put together, started, drained and stopped (the listeners and the requests are
// gateway_sessions.cpp's).
#include "server/gateway_impl.hpp"
#include <future>

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

gateway::impl::impl(asio::io_context& io_, app::config cfg, std::vector<asio::io_context*> more_io)
    : io(io_),
      config(std::move(cfg)),
      contexts([&] {
        more_io.insert(more_io.begin(), &io_);
        return std::move(more_io);
      }()),
      acceptor(io_),
      admin_acceptor(io_),
      admitted(config.prewarm_timeout),
      routes(config, disk_pool, &precalls),
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
      webhooks{config, routes, active, admitted, records, machine_verdicts, contexts},
      outbound{config, routes, active, records, database_pool, webhooks, rest_settings(config)},
      campaigns(std::make_shared<campaign_runner>(io_.get_executor(), outbound, instance)),
      deliveries(std::make_shared<webhook_sender>(asio::make_strand(io_), outbound, instance, webhook_tls)) {
  webhooks.on_campaign_call_end = [this](campaign_call_end end) { campaigns->call_ended(std::move(end), shared_from_this()); };
  webhooks.precalls = &precalls;
  webhooks.shared = shared.get();
  if (shared) {
    shared->call_contexts = &contexts;
    shared->on_fresh_stream = [this](const std::string& call_sid, const fresh_stream& stream) {
      webhooks.prewarm_fresh_stream(call_sid, stream);
    };
  }
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
gateway::impl::~impl() {
  disk_pool.join();
  wake_webhooks.set(nullptr);
}

// The post-call sender runs once any route in force has a receiver (at start, or after a reload).
void gateway::impl::start_deliveries_if_wanted() {
  if (any_postcall_receiver(*routes.table(), config) && !deliveries_started.exchange(true))
    deliveries->start(shared_from_this());
}


gateway::gateway(asio::io_context& io, app::config config, std::vector<asio::io_context*> more_io)
    : impl_(std::make_shared<impl>(io, std::move(config), std::move(more_io))) {}

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
  // A concurrent channel: the last call ends on its own io thread, maybe another one. Its one slot keeps a
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
