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
#include "call/call_registry.hpp"
#include "call/completed_calls.hpp"
#include "call/pending_streams.hpp"
#include "call/pipeline_agent.hpp"
#include "call/voicemail_agent.hpp"
#include "elevenlabs/agent_client.hpp"
#include "twilio/rest_client.hpp"
#include "voicebridge/app/config.hpp"

namespace voicebridge::records {
class record_writer;
}

namespace voicebridge::call {

// How the upgrade request proved itself before `start` (the per-call token in `start` can do it after).
enum class upgrade_auth { none, twilio_signature };

struct stream_services {
  const app::config& config;
  completed_calls& completed;
  call_registry& active;
  admission& admitted;
  std::shared_ptr<const std::vector<std::uint8_t>> greeting_mulaw;  // the echo agent's greeting
  voicemail_settings local_voicemail;  // the local demo agent: greeting, tone, message
  voicemail_settings fallback;         // when the agent cannot answer: fallback prompt, tone, message
  records::record_writer& records;
  boost::asio::thread_pool& disk;  // recordings are written here, never on an io thread
  twilio::rest_settings rest;  // transfers
  elevenlabs::agent_settings agent;  // AGENT_MODE=elevenlabs-agent
  pipeline_settings pipeline;        // AGENT_MODE=pipeline
  elevenlabs::prewarm_pool* prewarms = nullptr;  // set when pre-warming is on
};

// Checks an upgrade request to the stream path. nullopt: refuse it with 403 (a credential was presented
// and is wrong). A request without credentials is let through as `none`: it must authenticate on `start`.
std::optional<upgrade_auth> check_upgrade(const boost::beast::http::request<boost::beast::http::string_body>& request,
                                          const app::config& config);

// Accepts the WebSocket on `stream` and serves the call to its end. `pending` is the socket's place among
// those waiting for an authenticated `start`; once it authenticates, the call takes a place in the registry
// (and the active_calls gauge) instead, for as long as it runs, whatever ends it. Never throws for network or
// protocol errors; they are logged with the call SID.
boost::asio::awaitable<void> serve_twilio_stream(boost::beast::tcp_stream stream,
                                                 boost::beast::http::request<boost::beast::http::string_body> upgrade,
                                                 upgrade_auth auth, pending_streams::ticket pending,
                                                 stream_services& services);

}  // namespace voicebridge::call
