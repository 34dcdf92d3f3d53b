// Where pipeline mode's two ElevenLabs sockets go and how they behave: the speech-to-text and text-to-speech
// endpoints with their audio formats, the API key header, and the settings' timeouts and bounds.
#pragma once
#include "pipeline/pipeline_agent.hpp"
#include "pipeline/speech_socket.hpp"

namespace voicebridge::pipeline {

speech_socket_settings stt_socket_settings(const pipeline_settings& settings);
speech_socket_settings tts_socket_settings(const pipeline_settings& settings);

}  // namespace voicebridge::pipeline
