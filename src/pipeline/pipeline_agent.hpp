// Pipeline mode (AGENT_MODE=pipeline): the caller's audio to ElevenLabs realtime speech-to-text, each
// committed turn to any OpenAI-compatible LLM (streamed), its answer phrase by phrase to ElevenLabs
// multi-context text-to-speech, and the audio back to the caller, with barge-in.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "call/agent.hpp"
#include "llm/chat_client.hpp"

namespace voicebridge::pipeline {

struct pipeline_settings {
  std::string speech_base_url;  // ELEVENLABS_BASE_URL: the STT and TTS sockets (wss:// for https)
  std::string api_key;          // xi-api-key on both sockets
  std::string voice_id;
  std::string tts_model = "eleven_flash_v2_5";
  std::string stt_model = "scribe_v2_realtime";
  std::string language;         // STT language_code; empty: detected
  std::string greeting;         // spoken (without the LLM) when the call starts; empty: none
  std::string system_prompt;
  llm::chat_settings llm;
  std::shared_ptr<boost::asio::ssl::context> tls;  // for https speech URLs
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds stt_keepalive{10000};  // a silent chunk after this long without caller audio
  std::chrono::milliseconds tts_keepalive{10000};  // the TTS socket closes after 20 s without input
  std::chrono::milliseconds goodbye_cap{10000};    // how long an end_call goodbye may play
  std::size_t max_history = 40;                    // messages kept besides the system prompt
  std::size_t max_queued = 1000;                   // per socket: 20 s of caller frames
  int reconnect_attempts = 3;
};

std::unique_ptr<call::agent> make_pipeline_agent(const boost::asio::any_io_executor& executor, call::caller_link& caller,
                                                 const pipeline_settings& settings, std::string call_sid);

}  // namespace voicebridge::pipeline
