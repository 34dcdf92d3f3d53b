// The read API over call records, for the business's own tools:
//   GET /api/calls?limit=N              newest first (N: 1-1000, default 50)
//   GET /api/calls/{callSid}            one record, with its transcript and links to its audio
//   GET /api/calls/{callSid}/recording  the full-call recording (WAV): from disk, or from the store when another
//                                       instance recorded it; one byte range of it with a Range header (206)
//   GET /api/calls/{callSid}/voicemail  the caller's message (WAV)
//   POST /api/calls                     places an outbound call (server/outbound_api.hpp)
// Every request needs "Authorization: Bearer <ADMIN_TOKEN>" (401 otherwise); without ADMIN_TOKEN the API
// is off (404).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string_view>

#include "records/call_store.hpp"
#include "voicebridge/app/config.hpp"

namespace voicebridge::server {

bool is_calls_api(std::string_view target);

// The record as the API shows it: the stored JSON plus where to fetch its audio (relative to `link_base`:
// empty for the API itself, the public base URL for a webhook's receiver).
boost::json::value record_view(const records::call_record& record, const std::string& link_base);

// "Authorization: Bearer <ADMIN_TOKEN>", compared in constant time; false without ADMIN_TOKEN.
bool admin_authorized(const boost::beast::http::request<boost::beast::http::string_body>& req, const app::config& config);

// A listing's ?limit=N: 1 to 1000; nullopt for anything else.
std::optional<std::size_t> list_limit(std::string_view text);

// An answer of the API: JSON as it is, or a line of text; 401 asks for the bearer token.
boost::beast::http::response<boost::beast::http::string_body> api_reply(
    const boost::beast::http::request<boost::beast::http::string_body>& req, unsigned status, std::string body, bool as_json);

// Answers one request; false when the connection is to be closed.
boost::asio::awaitable<bool> serve_calls_api(boost::beast::tcp_stream& stream,
                                             const boost::beast::http::request<boost::beast::http::string_body>& req,
                                             records::call_store& store, boost::asio::thread_pool& database_pool,
                                             const app::config& config);

}  // namespace voicebridge::server
