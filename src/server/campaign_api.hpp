// Campaigns and opt-outs over HTTP (the read API's bearer token, ADMIN_TOKEN):
//
//   POST /api/campaigns                      JSON, or text/csv with the settings in the query (campaign_request.hpp)
//     201 {"id", "url", "rows"}; 400 the settings' mistake, or every bad row by its line; 503 store down
//   GET  /api/campaigns/{id}                 {"id", "name", "route", "state", "settings", "progress": {"total",
//                                            "queued", "dialling", "done", "outcomes": {"busy": n, "agent": n, …}}}
//   POST /api/campaigns/{id}/pause | /resume | /cancel   200 {"id", "state"}; 404; 409 once it has ended
//   POST /api/opt-outs {"number": "+1…"}     201 (never dialled by a campaign again); DELETE /api/opt-outs/{number}
//   GET  /api/opt-outs/{number}              200 or 404
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>
#include <algorithm>
#include <memory>

#include "server/call_placement.hpp"
#include "server/campaign_runner.hpp"

namespace voicebridge::server {

bool is_campaign_api(std::string_view target);

// A campaign as GET /api/campaigns/{id} shows it (the console's Campaigns page too), from its row and counts.
boost::json::object campaign_view(const records::stored_campaign& campaign, const std::vector<records::campaign_count>& counts);

// The body bound of a request, from its header: a campaign's list (POST /api/campaigns with the admin
// token) may be up to MAX_CAMPAIGN_BODY_BYTES; everything else, and any request without the token,
// MAX_HTTP_BODY_BYTES.
std::size_t body_limit_for(const boost::beast::http::request<boost::beast::http::string_body>& header,
                           const app::config& config);
// The largest body any request may have: what a header is read under, before its own bound is known.
inline std::size_t largest_body_limit(const app::config& config) {
  return std::max(config.max_campaign_body, config.max_http_body);
}

class webhook_sender;

// Everything that places or serves outbound calls, or waits on the store: POST /api/calls, the outbound
// TwiML, campaigns, opt-outs and the webhook queue (the gateway's session hands these over whole).
bool is_outbound_api(const boost::beast::http::request<boost::beast::http::string_body>& req);
boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> serve_outbound_api(
    const boost::beast::http::request<boost::beast::http::string_body>& req, bool draining, outbound_services& services,
    campaign_runner& runner, webhook_sender& sender);

boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> serve_campaign_api(
    const boost::beast::http::request<boost::beast::http::string_body>& req, outbound_services& services,
    campaign_runner& runner);

}  // namespace voicebridge::server
