// The agent each call gets, as configured (AGENT_MODE, LOCAL_AGENT, PREWARM): the server's agent_factory, and
// the prompts it loads at start-up. The one place that knows every kind of agent, so that call/ knows none.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "call/agent.hpp"
#include "pipeline/pipeline_agent.hpp"
#include "call/voicemail_agent.hpp"
#include "elevenlabs/agent_client.hpp"
#include "voicebridge/app/config.hpp"

namespace voicebridge::call {
class precall_answers;
}

namespace voicebridge::server {

class configured_agents final : public call::agent_factory {
 public:
  // Loads the prompts (a WAV file, or the text spoken with espeak-ng); throws app::config_error naming the
  // variable when one cannot be loaded. `config` is a route's settings (it must outlive this object) and
  // `route_variables` its dynamic variables.
  // `precalls`: the pre-call webhook's answers, which the agent's initiation waits for (nullptr: none).
  configured_agents(const app::config& config, boost::asio::thread_pool& disk,
                    const elevenlabs::dynamic_variables& route_variables = {}, call::precall_answers* precalls = nullptr);

  std::unique_ptr<call::agent> adopt(const twilio::start_message& start, const boost::asio::any_io_executor& executor,
                                     std::weak_ptr<call::caller_link> caller) override;
  std::unique_ptr<call::agent> make(const twilio::start_message& start, const boost::asio::any_io_executor& executor,
                                    call::caller_link& caller) override;

  // The accepted voice webhook: the conversation starts getting ready, on `executor` (where the call's stream
  // will run), while Twilio opens the stream.
  void prewarm(const std::string& call_sid, const std::vector<std::pair<std::string, std::string>>& call_parameters,
               const boost::asio::any_io_executor& executor);
  // When the agent cannot answer: the fallback prompt, the tone, the caller's message.
  const call::voicemail_settings& fallback() const { return fallback_; }
  // What an answering machine is left on an outbound call (8 kHz mu-law); nullptr: none is configured.
  const std::shared_ptr<const std::vector<std::uint8_t>>& machine_message() const { return machine_message_; }

 private:
  const app::config& config_;
  std::shared_ptr<const std::vector<std::uint8_t>> greeting_mulaw_;  // the echo agent's greeting
  call::voicemail_settings local_voicemail_;  // the local demo agent: greeting, tone, message
  call::voicemail_settings fallback_;
  std::shared_ptr<const std::vector<std::uint8_t>> machine_message_;
  elevenlabs::agent_settings agent_;  // AGENT_MODE=elevenlabs-agent
  pipeline::pipeline_settings pipeline_;  // AGENT_MODE=pipeline
  std::optional<elevenlabs::prewarm_pool> prewarms_;  // PREWARM
};

// The TLS context for an https:// base URL, nullptr for http://.
std::shared_ptr<boost::asio::ssl::context> tls_for(const std::string& base_url);

}  // namespace voicebridge::server
