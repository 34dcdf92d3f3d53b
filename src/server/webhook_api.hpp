// The post-call webhook queue over HTTP (the read API's bearer token, ADMIN_TOKEN):
//
//   GET  /api/webhooks/failed[?limit=N]   {"webhooks": [{"id", "kind", "call_sid", "attempts", "last_error",
//                                         "created_at_ms", "failed_at_ms"}]}, newest failure first (N: 1-1000)
//   GET  /api/webhooks/{id}               one delivery, whatever its state
//   POST /api/webhooks/{id}/retry         202 {"id", "state": "pending"}: due now, its retry window again;
//                                         404 no such delivery; 409 delivered already
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string_view>

#include "server/call_placement.hpp"

namespace voicebridge::server {

class webhook_sender;

bool is_webhook_api(std::string_view target);

boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> serve_webhook_api(
    const boost::beast::http::request<boost::beast::http::string_body>& req, outbound_services& services,
    webhook_sender& sender);

}  // namespace voicebridge::server
