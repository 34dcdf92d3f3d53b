// Post-call webhooks: one coroutine per gateway instance takes the due deliveries from the call store
// (records/webhook_deliveries.hpp; leased, so that instances sharing PostgreSQL never send one at once),
// sends each call's record, signed, to its route's postcall_webhook_url, and tells the store what came of
// it (server/webhook_policy.hpp: delivered, retried with backoff, or parked). The queue is the store's: a
// restart, or another instance, carries on where this one stopped.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <memory>
#include <string>

#include "server/call_placement.hpp"

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::server {

// The body a receiver gets (documented in the README): {"id", "type": "call.ended", "created_at", "call":
// the record as GET /api/calls/{sid} shows it, with absolute links to its audio, and for an outbound call
// its "campaign" and the request's "variables"}.
std::string postcall_body(const records::webhook_delivery& delivery, const records::call_record& record,
                          const std::optional<records::outbound_call>& placed, const std::string& public_base_url);

// The settings a route's calls' records are sent with: the route's as the routes in force have it, the
// environment's for a route that is gone (or a record without one).
const app::config& postcall_settings(const route_table& table, const app::config& base, const std::string& route);
// Whether any route in force (or the environment) has a post-call receiver: the sender runs then.
bool any_postcall_receiver(const route_table& table, const app::config& base);

class webhook_sender : public std::enable_shared_from_this<webhook_sender> {
 public:
  webhook_sender(const boost::asio::any_io_executor& executor, outbound_services& services, std::string instance,
                 std::shared_ptr<boost::asio::ssl::context> tls);

  void start(std::shared_ptr<void> owner);  // `owner` (the gateway) is held while the loop runs
  void stop();
  void wake();  // a delivery was queued or retried: look now. Thread-safe.

  static constexpr std::chrono::milliseconds poll_interval{1000};  // what other instances queued, retries due
  static constexpr std::size_t max_in_flight = 8;

 private:
  boost::asio::awaitable<void> run(std::shared_ptr<void> owner);
  boost::asio::awaitable<void> deliver(records::webhook_delivery delivery);
  void update_queue_gauges(const records::delivery_queue_stats& stats) const;

  boost::asio::any_io_executor executor_;
  outbound_services& services_;
  std::string instance_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::steady_timer wake_timer_;
  std::atomic<bool> stopped_ = false;
  std::size_t in_flight_ = 0;  // only the executor's coroutines touch it
};

}  // namespace voicebridge::server
