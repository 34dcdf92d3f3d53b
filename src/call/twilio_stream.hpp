// One Twilio Media Stream: authenticate, then serve the call with an agent until either side ends it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "call/admission.hpp"
#include "call/agent.hpp"
#include "call/amd_results.hpp"
#include "call/call_registry.hpp"
#include "call/call_route.hpp"
#include "call/call_state.hpp"
#include "call/completed_calls.hpp"
#include "call/pending_streams.hpp"
#include "call/stream_presence.hpp"
#include "twilio/rest_client.hpp"
#include "voicebridge/app/config.hpp"

namespace voicebridge::records {
class record_writer;
}

namespace voicebridge::call {

struct stream_services {
  const app::config& config;  // the process's: credentials, timeouts, limits
  completed_calls& completed;
  call_registry& active;
  admission& admitted;
  route_finder& routes;  // each call's agents, fallback and per-route settings
  records::record_writer& records;
  boost::asio::thread_pool& disk;  // recordings are written here, never on an io thread
  twilio::rest_settings rest;  // transfers
  amd_results& machine_verdicts;  // outbound calls with machine detection: Twilio's AnsweredBy, from its webhook
  stream_presence* presence = nullptr;  // several instances: where each stream is, in the shared store
};

// Accepts the WebSocket on `stream` and serves the call to its end. `pending` is the socket's place among
// those waiting for an authenticated `start`; once it authenticates, the call takes a place in the registry
// (and the active_calls gauge) instead, for as long as it runs, whatever ends it. Never throws for network or
// protocol errors; they are logged with the call SID.
boost::asio::awaitable<void> serve_twilio_stream(boost::beast::tcp_stream stream,
                                                 boost::beast::http::request<boost::beast::http::string_body> upgrade,
                                                 upgrade_auth auth, pending_streams::ticket pending,
                                                 stream_services& services);

}  // namespace voicebridge::call
