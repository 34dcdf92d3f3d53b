// What each console page shows, loaded: from the call store (on its own thread), the calls in progress, the
// routes in force, the API (webhooks; campaigns as it shows them) and the metrics. The pages render it (call_pages,
// operations_pages).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <string_view>
#include <vector>

#include "call/call_registry.hpp"
#include "server/console/console.hpp"
#include "server/console/operations_pages.hpp"
#include "voicebridge/twilio/form.hpp"

namespace voicebridge::server::console {

// A request to the gateway's own API, as the console asks it: with the admin token.
http_request admin_api_request(boost::beast::http::verb verb, std::string target, const app::config& config);

// The query string's fields (empty when it has none or they are malformed: the page says so).
twilio::form_params query_of(const http_request& req);

std::vector<live_row> live_rows(const call::call_registry& active, std::int64_t now_ms);

boost::asio::awaitable<http_response> calls_view(const http_request& req, console_context& c, const twilio::form_params& fields,
                                                 bool from_form, const std::string& csrf);
boost::asio::awaitable<http_response> call_view(const http_request& req, console_context& c, std::string_view call_sid,
                                                const std::string& csrf);
boost::asio::awaitable<http_response> campaigns_view(const http_request& req, console_context& c, const std::string& csrf);
boost::asio::awaitable<http_response> webhooks_view(const http_request& req, console_context& c, const std::string& csrf);
std::string routes_view(console_context& c, const std::string& csrf);
std::string health_view(console_context& c, const std::string& csrf);

// The HTML answers every console page shares (console.cpp): security headers, no caching.
http_response page(const http_request& req, unsigned status, std::string html);

}  // namespace voicebridge::server::console
