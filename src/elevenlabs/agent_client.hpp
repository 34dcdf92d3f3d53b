// An ElevenLabs Agents (ConvAI) conversation for one call: connects when the Twilio stream starts, sends
// the caller's audio as it arrives (buffered, bounded and in order until the agent is ready), plays the
// agent's audio to the caller, answers pings, handles barge-in, DTMF, tool calls and the end of the call.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "call/agent.hpp"
#include "voicebridge/twilio/media_messages.hpp"

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::elevenlabs {

struct agent_settings {
  std::string base_url;  // https://host[:port] (wss://), or http://host:port (ws://) for local stand-ins
  std::string agent_id;
  std::string api_key;  // set: a private agent, reached through a signed URL per call
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{30000};  // nothing received (ElevenLabs pings every few seconds)
  bool dtmf_as_user_message = false;
  std::string config_override_json;  // conversation_config_override, per deployment
  std::chrono::milliseconds goodbye_cap{10000};  // how long a goodbye may keep playing after the agent closes
  std::size_t max_buffered_messages = 1000;      // toward the agent: 20 s of caller frames
  std::shared_ptr<boost::asio::ssl::context> tls;  // for https base URLs; shared by all calls
};

// Peer and host name verification against the system trust store (or SSL_CERT_FILE).
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context();

std::unique_ptr<call::agent> make_agent(const boost::asio::any_io_executor& executor, call::caller_link& caller,
                                        const agent_settings& settings, const twilio::start_message& start);

}  // namespace voicebridge::elevenlabs
