// Outbound calls over HTTP: POST /api/calls places one (Twilio REST API, "Call resource", "Create a Call
// resource"), and the TwiML endpoint Twilio fetches when the callee answers connects it to the route's agent.
//
//   POST /api/calls   {"to", "from"?, "route"?, "dynamic_variables"?, "machine_detection"?}
//     201 {"call_sid", "record_url", "status": "queued"}: Twilio accepted the call
//     400 the field at fault; 401 no bearer token; 409 a request with this Idempotency-Key is under way;
//     422 the Idempotency-Key was used for another request; 502 Twilio refused (its code and message);
//     503 at MAX_CALLS, outbound calls not configured, or the call store unavailable.
//   machine_detection: Twilio's asynchronous AMD with DetectMessageEnd; its verdict is posted to
//   /api/twilio/voice/amd (twilio_webhooks::answer_amd) and decides the call (call/machine_gate.hpp).
//   An Idempotency-Key header (1-255 printable characters) makes a retried request answer the first call
//   (201 again, with Idempotent-Replayed: true) instead of dialling twice: the key is held in the call store
//   before Twilio is asked, so two requests with one key, on one instance or several, dial once.
//
//   POST /api/twilio/voice/outbound?route=NAME&request=ID[&amd=1]   (signed by Twilio, query included)
//     <Connect><Stream> as for an inbound call, with direction=outbound, the request's variables, and
//     machine_detection=true when the call waits for an AMD verdict.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/call_placement.hpp"

namespace voicebridge::server {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;


// POST /api/calls.
boost::asio::awaitable<http_response> place_outbound_call(const http_request& req, outbound_services& services);

// The outbound TwiML endpoint: authenticated as Twilio's voice webhook is (its signature covers the query);
// refused while the gateway drains, so that Twilio's fallback takes the call.
boost::asio::awaitable<http_response> answer_outbound_twiml(const http_request& req, bool draining,
                                                             outbound_services& services);

}  // namespace voicebridge::server
