// An ElevenLabs Agents (ConvAI) conversation for one call: connects when the Twilio stream starts, sends
// the caller's audio as it arrives (buffered, bounded and in order until the agent is ready), plays the
// agent's audio to the caller, answers pings, handles barge-in, DTMF, tool calls and the end of the call.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "call/agent.hpp"
#include "voicebridge/twilio/media_messages.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace voicebridge::call {
class precall_answers;
}

namespace voicebridge::elevenlabs {

using dynamic_variables = std::vector<std::pair<std::string, std::string>>;

struct agent_settings {
  std::string base_url;  // https://host[:port] (wss://), or http://host:port (ws://) for local stand-ins
  std::string agent_id;
  std::string api_key;  // set: a private agent, reached through a signed URL per call
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{30000};  // nothing received (ElevenLabs pings every few seconds)
  bool dtmf_as_user_message = false;
  std::string config_override_json;  // conversation_config_override, per deployment (or route)
  dynamic_variables route_variables;  // the route's dynamic_variables, added to each call's
  std::chrono::milliseconds goodbye_cap{10000};  // how long a goodbye may keep playing after the agent closes
  std::size_t max_buffered_messages = 1000;      // toward the agent: 20 s of caller frames
  std::shared_ptr<boost::asio::ssl::context> tls;  // for https base URLs; shared by all calls
  std::chrono::milliseconds prewarm_timeout{15000};  // how long a pre-warmed conversation waits for its stream
  // The pre-call webhook's answers (the gateway's): the initiation data waits for the call's, within its
  // deadline, and carries its variables and override. nullptr: none are asked for.
  call::precall_answers* precalls = nullptr;
};

// The conversation's dynamic variables from the stream's (or webhook's) parameters: from -> caller_number,
// to -> called_number, the others by name (not the stream credential or the route); then the route's variables, each
// unless the call's own parameters already name it (a caller's number is a fact, not configuration).
dynamic_variables call_variables(const std::vector<std::pair<std::string, std::string>>& parameters,
                                 const agent_settings& settings);

// A conversation connected when the stream starts, on the call's own executor.
std::unique_ptr<call::agent> make_agent(const boost::asio::any_io_executor& executor, call::caller_link& caller,
                                        const agent_settings& settings, const twilio::start_message& start);

// Conversations opened while the phone rings (at the accepted webhook), each on the executor it is given
// (the io thread its call's stream is to run on): signed URL, connect, handshake, initiation data, metadata;
// pings are answered and the agent's first audio is kept until the call's stream starts and adopts it.
// Thread-safe.
class prewarm_pool {
 public:
  explicit prewarm_pool(const agent_settings& settings);
  ~prewarm_pool();  // pending conversations are closed with 1000
  prewarm_pool(const prewarm_pool&) = delete;
  prewarm_pool& operator=(const prewarm_pool&) = delete;

  // Opens one for this call, unless one is pending already (Twilio retried the webhook).
  void open(const std::string& call_sid, dynamic_variables variables, const boost::asio::any_io_executor& executor);
  // At the authenticated `start`: the pending conversation for this call, bound to `caller` (which lives on
  // `call_executor`); nullptr when there is none (never opened, expired, failed, or opened by another
  // instance), and the call then connects as without pre-warm. Should the adopted connection fail before
  // it was ready, the returned agent falls back to a fresh connection itself.
  std::unique_ptr<call::agent> adopt(const twilio::start_message& start, const boost::asio::any_io_executor& call_executor,
                                     std::weak_ptr<call::caller_link> caller);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace voicebridge::elevenlabs
