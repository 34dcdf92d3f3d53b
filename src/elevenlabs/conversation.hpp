// One ElevenLabs Agents conversation, whatever its transport (ws:// for local stand-ins, wss:// for
// ElevenLabs): what the pre-warm pool and an adopting call need of it. Runs on one executor.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>

#include "call/agent.hpp"
#include "elevenlabs/agent_client.hpp"

namespace voicebridge::elevenlabs {

class session : public call::agent, public std::enable_shared_from_this<session> {
 public:
  // Binds the conversation to its caller (at construction, or when a call adopts a pre-warmed one); the
  // agent audio that arrived before is played at once.
  virtual void attach(call::caller_link& caller, std::shared_ptr<call::caller_link> keepalive) = 0;
  virtual bool connected() const = 0;
  // Pre-warm entry point: connect now and serve the agent's first messages before any caller is attached.
  // `on_result(connected)` once connecting succeeded or failed; `expire()` when no call adopted it in time
  // (true: close it); `on_end()` when the conversation is over.
  virtual boost::asio::awaitable<void> prewarm(std::function<void(bool)> on_result, std::function<bool()> expire,
                                               std::function<void()> on_end) = 0;
  virtual void close() = 0;  // end with 1000 (expiry, shutdown)
};

// One conversation, not yet attached to a caller.
std::unique_ptr<session> make_session(const boost::asio::any_io_executor& executor, const agent_settings& settings,
                                      std::string call_sid, dynamic_variables variables);

}  // namespace voicebridge::elevenlabs
