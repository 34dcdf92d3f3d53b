// The operator console: a web page over the call records, the calls in progress, campaigns, routes, failed
// webhooks and health, served by the gateway itself at /console (on the admin listener when METRICS_ADDRESS
// is set, else on the main port; off without ADMIN_TOKEN).
//
//   GET  /console/sign-in, POST /console/sign-in   the admin token for a session cookie (console_auth.hpp)
//   POST /console/sign-out
//   GET  /console/calls[?route=&outcome=&direction=&since=&until=&tz=&after=]   newest first, a page at a time
//   POST /console/calls                            the same, with a number to filter by (never in an address)
//   GET  /console/calls/{sid}                      one call; /recording and /voicemail stream its audio (ranges)
//   GET  /console/live, /console/live/events       calls in progress; Server-Sent Events keep the page current
//   POST /console/live/{sid}/end | /transfer       end a call, or hand it to a person at `number`
//   GET  /console/campaigns, POST /console/campaigns/{id}/pause | /resume | /cancel
//   GET  /console/routes, /console/webhooks, /console/health; POST /console/webhooks/{id}/retry
//   GET  /console/assets/console.css | console.js  embedded in the binary
//
// Every page is server-rendered HTML that works without JavaScript (the live view's updates excepted), under
// a Content-Security-Policy that allows only the console's own script and style. Every form that changes
// something carries the session's CSRF token.
#pragma once
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <string_view>

#include "call/call_registry.hpp"
#include "records/call_store.hpp"
#include "server/console/console_auth.hpp"
#include "voicebridge/app/config.hpp"

namespace voicebridge::server {
class routing;
}

namespace voicebridge::server::console {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

struct console_context {
  const app::config& config;
  records::call_store& store;
  boost::asio::thread_pool& database_pool;
  call::call_registry& active;
  routing& routes;
  const std::atomic<bool>& draining;
  const std::atomic<bool>& stopping;  // the gateway stops accepting: live event streams end
  std::function<std::size_t()> pending_streams;
  // The gateway's own API (campaigns, webhooks), asked as any client would, with the admin token.
  std::function<boost::asio::awaitable<http_response>(http_request)> api;
  std::int64_t up_since_ms = 0;
  console_auth auth;
  std::atomic<unsigned> event_streams{0};  // live views open now (bounded)
};

inline constexpr std::string_view console_path = "/console";
inline constexpr unsigned max_event_streams = 32;

bool is_console(std::string_view target);

// Answers one request; false when the connection is to be closed.
boost::asio::awaitable<bool> serve_console(boost::beast::tcp_stream& stream, const http_request& req,
                                           console_context& console);

}  // namespace voicebridge::server::console
