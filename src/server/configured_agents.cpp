#include "server/configured_agents.hpp"

#include "call/local_agent.hpp"
#include "net/tls_context.hpp"
#include "call/playback.hpp"
#include "voicebridge/audio/speech.hpp"
#include "voicebridge/audio/wav.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;

namespace {

using audio_ptr = std::shared_ptr<const std::vector<std::uint8_t>>;

// A prompt from a WAV file (any rate and format) if one is configured, else `text` spoken with espeak-ng;
// done once at start-up, and a failure stops the start naming the variable.
audio_ptr load_prompt(const std::optional<std::filesystem::path>& wav_file, const char* wav_variable,
                      const std::string& text, const std::string& language) {
  if (wav_file) {
    auto wav = audio::read_wav_file(*wav_file);
    if (!wav) throw app::config_error(std::string(wav_variable) + ": " + wav.error().message);
    return std::make_shared<const std::vector<std::uint8_t>>(audio::to_mulaw_8k(*wav));
  }
  auto spoken = audio::synthesize_mulaw(text, language);
  if (!spoken) throw app::config_error("FALLBACK_LANGUAGE: " + spoken.error().message);
  return std::make_shared<const std::vector<std::uint8_t>>(std::move(*spoken));
}

audio_ptr load_echo_greeting(const app::config& config) {
  if (config.local_greeting_wav) return load_prompt(config.local_greeting_wav, "LOCAL_GREETING_WAV", "", "");
  return std::make_shared<const std::vector<std::uint8_t>>(call::make_greeting_tone());
}

call::voicemail_settings voicemail(const app::config& config, audio_ptr prompt, asio::thread_pool& disk) {
  return {std::move(prompt), std::make_shared<const std::vector<std::uint8_t>>(call::make_voicemail_tone()),
          config.recordings_dir(), &disk, config.voicemail_max_length, config.voicemail_silence};
}

elevenlabs::agent_settings agent_settings(const app::config& config) {
  elevenlabs::agent_settings s;
  s.base_url = config.elevenlabs_base_url;
  s.agent_id = config.elevenlabs_agent_id;
  s.api_key = config.elevenlabs_api_key;
  s.connect_timeout = config.agent_connect_timeout;
  s.idle_timeout = config.agent_idle_timeout;
  s.dtmf_as_user_message = config.dtmf_as_user_message;
  s.config_override_json = config.agent_config_override;
  s.prewarm_timeout = config.prewarm_timeout;
  s.tls = tls_for(s.base_url);
  return s;
}

pipeline::pipeline_settings pipeline_settings(const app::config& config) {
  pipeline::pipeline_settings s;
  s.speech_base_url = config.elevenlabs_base_url;
  s.api_key = config.elevenlabs_api_key;
  s.voice_id = config.voice_id;
  s.tts_model = config.tts_model;
  s.language = config.stt_language;
  s.greeting = config.pipeline_greeting;
  s.system_prompt = config.system_prompt;
  s.connect_timeout = config.agent_connect_timeout;
  s.idle_timeout = config.speech_idle_timeout;
  s.stt_keepalive = s.tts_keepalive = config.speech_keepalive;
  s.llm.base_url = config.llm_base_url;
  s.llm.api_key = config.llm_api_key;
  s.llm.model = config.llm_model;
  s.llm.connect_timeout = config.llm_timeout;
  s.llm.idle_timeout = config.llm_timeout;
  if (config.mode() == app::agent_mode::pipeline) {
    s.tls = tls_for(s.speech_base_url);
    s.llm.tls = tls_for(s.llm.base_url);
  }
  return s;
}

}  // namespace

std::shared_ptr<asio::ssl::context> tls_for(const std::string& base_url) {
  return base_url.starts_with("https://") ? net::make_client_tls_context() : nullptr;
}

configured_agents::configured_agents(const app::config& config, asio::thread_pool& disk,
                                     const elevenlabs::dynamic_variables& route_variables,
                                     call::precall_answers* precalls)
    : config_(config),
      greeting_mulaw_(load_echo_greeting(config)),
      local_voicemail_(voicemail(config,
                                 config.mode() == app::agent_mode::local && config.local_agent == app::local_agent_kind::voicemail
                                     ? load_prompt(config.local_greeting_wav, "LOCAL_GREETING_WAV", config.local_greeting_text,
                                                   config.fallback_language)
                                     : nullptr,
                                 disk)),
      fallback_(voicemail(config,
                          load_prompt(config.fallback_prompt_wav, "FALLBACK_PROMPT_WAV", config.fallback_text,
                                      config.fallback_language),
                          disk)),
      machine_message_(config.voicemail_message_wav || !config.voicemail_message_text.empty()
                           ? load_prompt(config.voicemail_message_wav, "VOICEMAIL_MESSAGE_WAV",
                                         config.voicemail_message_text, config.fallback_language)
                           : nullptr),
      agent_(agent_settings(config)),
      pipeline_(pipeline_settings(config)) {
  agent_.route_variables = route_variables;
  agent_.precalls = precalls;
  if (config.mode() == app::agent_mode::elevenlabs_agent && config.prewarm) prewarms_.emplace(agent_);
}

std::unique_ptr<call::agent> configured_agents::adopt(const twilio::start_message& start, const asio::any_io_executor& executor,
                                                      std::weak_ptr<call::caller_link> caller) {
  return prewarms_ ? prewarms_->adopt(start, executor, std::move(caller)) : nullptr;
}

std::unique_ptr<call::agent> configured_agents::make(const twilio::start_message& start, const asio::any_io_executor& executor,
                                                     call::caller_link& caller) {
  switch (config_.mode()) {
    case app::agent_mode::pipeline:
      return pipeline::make_pipeline_agent(executor, caller, pipeline_, start.call_sid);
    case app::agent_mode::elevenlabs_agent:
      return elevenlabs::make_agent(executor, caller, agent_, start);
    case app::agent_mode::local:
      break;
  }
  if (config_.local_agent == app::local_agent_kind::echo)
    return std::make_unique<call::local_agent>(executor, caller, greeting_mulaw_, start.call_sid);
  return std::make_unique<call::voicemail_agent>(executor, caller, local_voicemail_, start.call_sid);
}

void configured_agents::prewarm(const std::string& call_sid,
                                const std::vector<std::pair<std::string, std::string>>& call_parameters,
                                const asio::any_io_executor& executor) {
  if (prewarms_) prewarms_->open(call_sid, elevenlabs::call_variables(call_parameters, agent_), executor);
}

}  // namespace voicebridge::server
