#include "server/webhook_sender.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <random>

#include "app/report_escape.hpp"
#include "server/calls_api.hpp"
#include "server/webhook_client.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
namespace json = boost::json;
using app::log;
using app::log_level;
using app::metrics;

namespace {

double jitter() {
  thread_local std::mt19937 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

const char* result_label(records::delivery_result::kind what) {
  using kind = records::delivery_result::kind;
  return what == kind::delivered ? "delivered" : what == kind::retry ? "retried" : "parked";
}

}  // namespace

std::string postcall_body(const records::webhook_delivery& delivery, const records::call_record& record,
                          const std::optional<records::outbound_call>& placed, const std::string& public_base_url) {
  json::object body{{"id", delivery.id},
                    {"type", "call.ended"},
                    {"created_at", delivery.created_at_ms / 1000},
                    {"call", record_view(record, public_base_url)}};
  auto& call = body["call"].as_object();
  call["record_url"] = public_base_url + std::string(app::calls_api_path) + "/" + record.call_sid;
  call["campaign"] = nullptr;
  if (placed) {
    json::object variables;
    for (const auto& [name, value] : placed->variables) {
      if (name == "campaign") call["campaign"] = value;  // a campaign's call (server/campaign_runner.cpp)
      else variables[name] = value;
    }
    call["variables"] = std::move(variables);
  }
  return json::serialize(body);
}

const app::config& postcall_settings(const route_table& table, const app::config& base, const std::string& route) {
  const auto* r = table.named(route);
  return r ? r->settings : base;
}

bool any_postcall_receiver(const route_table& table, const app::config& base) {
  return !base.postcall_webhook_url.empty() || std::any_of(table.routes().begin(), table.routes().end(), [](const route& r) {
           return !r.settings.postcall_webhook_url.empty();
         });
}

webhook_sender::webhook_sender(const asio::any_io_executor& executor, outbound_services& services, std::string instance,
                               std::shared_ptr<asio::ssl::context> tls)
    : executor_(executor), services_(services), instance_(std::move(instance)), tls_(std::move(tls)), wake_timer_(executor) {}

void webhook_sender::start(std::shared_ptr<void> owner) {
  asio::co_spawn(executor_, [self = shared_from_this(), owner = std::move(owner)] { return self->run(owner); },
                 app::report_escape("webhooks"));
}

void webhook_sender::stop() {
  stopped_ = true;
  wake();
}

void webhook_sender::wake() {
  asio::post(executor_, [self = shared_from_this()] { self->wake_timer_.cancel(); });
}

void webhook_sender::update_queue_gauges(const records::delivery_queue_stats& stats) const {
  metrics().webhook_queue_depth.set(static_cast<double>(stats.pending));
  metrics().webhooks_parked.set(static_cast<double>(stats.failed));
  const auto age_ms = stats.oldest_created_at_ms ? std::max<std::int64_t>(0, records::now_epoch_ms() - *stats.oldest_created_at_ms) : 0;
  metrics().webhook_queue_age_seconds.set(static_cast<double>(age_ms) / 1000.0);
}

asio::awaitable<void> webhook_sender::run(std::shared_ptr<void> owner) {
  // A lease outlives one attempt's timeout, so that a slow receiver's delivery is not taken by another instance.
  const auto lease = services_.config.postcall_timeout + std::chrono::seconds(15);
  while (!stopped_) {
    std::vector<records::webhook_delivery> due;
    records::delivery_queue_stats stats;
    const std::size_t room = max_in_flight - in_flight_;
    const std::function<void(records::call_store&)> take = [&](records::call_store& store) {
      const auto now = records::now_epoch_ms();
      if (room > 0) due = store.lease_deliveries(instance_, now, now + lease.count(), room);
      stats = store.delivery_stats();
    };
    if (co_await on_database(services_, take, "webhook lease")) update_queue_gauges(stats);
    for (auto& d : due) {
      ++in_flight_;
      auto sending = [self = shared_from_this(), owner, d = std::move(d)]() mutable -> asio::awaitable<void> {
        // The slot is given back whatever happens; what escaped still reaches report_escape.
        std::exception_ptr escaped;
        try {
          co_await self->deliver(std::move(d));
        } catch (...) {
          escaped = std::current_exception();
        }
        --self->in_flight_;
        self->wake_timer_.cancel();  // room for the next one
        if (escaped) std::rethrow_exception(escaped);
      };
      asio::co_spawn(executor_, std::move(sending), app::report_escape("webhook delivery"));
    }
    if (stopped_) break;
    wake_timer_.expires_after(poll_interval);
    co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> webhook_sender::deliver(records::webhook_delivery delivery) {
  std::optional<records::call_record> record;
  std::optional<records::outbound_call> placed;
  const std::function<void(records::call_store&)> find = [&](records::call_store& store) {
    record = store.find(delivery.call_sid);
    if (record && record->direction == "outbound") placed = store.find_outbound_by_call_sid(delivery.call_sid);
  };
  if (!co_await on_database(services_, find, "webhook record")) co_return;  // the lease runs out; tried again then
  // The route's receiver as the routes in force name it (a reload may have moved it); the environment's
  // for a route that is gone.
  const auto table = services_.routes.table();
  const auto& settings = postcall_settings(*table, services_.config, record ? record->route : std::string());
  records::delivery_result result;
  attempt_answer answer;
  if (!record) {
    result = {records::delivery_result::kind::park, records::now_epoch_ms(), "the call's record is not in the store"};
  } else if (settings.postcall_webhook_url.empty()) {
    result = {records::delivery_result::kind::park, records::now_epoch_ms(), "the route has no postcall_webhook_url any more"};
  } else {
    signed_post post;
    post.url = settings.postcall_webhook_url;
    post.secret = settings.webhook_secret;
    post.body = postcall_body(delivery, *record, placed, services_.config.public_base_url);
    post.idempotency_key = delivery.id;
    post.timeout = services_.config.postcall_timeout;
    post.tls = tls_;
    const auto sent = co_await post_signed(post);
    answer = sent.answer;
    const retry_policy policy{services_.config.postcall_first_retry, std::chrono::hours(1),
                              services_.config.postcall_retry_window};
    result = after_delivery_attempt(answer, delivery, policy, records::now_epoch_ms(), jitter());
  }
  bool held = false;
  const std::function<void(records::call_store&)> settle = [&](records::call_store& store) {
    held = store.finish_delivery(delivery.id, instance_, result);
  };
  if (!co_await on_database(services_, settle, "webhook result")) co_return;
  metrics().webhook_deliveries.inc("postcall", result_label(result.what));
  const auto level = result.what == records::delivery_result::kind::delivered ? log_level::info : log_level::warn;
  log(level, result.what == records::delivery_result::kind::delivered ? "post-call webhook delivered"
             : result.what == records::delivery_result::kind::retry   ? "post-call webhook failed; it is tried again"
                                                                       : "post-call webhook parked as failed",
      {{"delivery", delivery.id}, {"call_sid", delivery.call_sid}, {"route", record ? record->route : std::string()},
       {"host", host_of(settings.postcall_webhook_url)}, {"attempt", delivery.attempts + 1},
       {"result", result.error.empty() ? describe(answer) : result.error},
       {"retry_in_ms", result.what == records::delivery_result::kind::retry ? result.at_ms - records::now_epoch_ms() : 0},
       {"lease_held", held ? "true" : "false"}});
}

}  // namespace voicebridge::server
