// The server's configuration: environment variables (the original service's names), each also settable
// as a flag (--public-base-url=... for PUBLIC_BASE_URL). Invalid values fail at start-up, naming the variable.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "voicebridge/app/log.hpp"

namespace voicebridge::app {

struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What answers when no ElevenLabs agent is configured.
enum class local_agent_kind { voicemail, echo };

// Who answers the caller: the embedded local agent, an ElevenLabs agent, or the STT -> LLM -> TTS pipeline.
enum class agent_mode { local, elevenlabs_agent, pipeline };

struct config {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 8080;
  // https://host[:port] as Twilio reaches us (behind the TLS proxy); signatures are computed over it.
  std::string public_base_url;
  std::string twilio_auth_token;    // empty: webhook answers 500
  std::string twilio_stream_token;  // key of the per-call stream tokens; empty: webhook answers 500
  log_level log_level_ = log_level::info;
  log_format log_format_ = log_format::text;

  std::chrono::seconds stream_token_ttl{300};
  std::chrono::milliseconds stream_auth_timeout{5000};  // upgrade -> authenticated `start`
  std::chrono::milliseconds twilio_idle_timeout{15000};
  std::chrono::milliseconds http_timeout{15000};  // per request read/write on the HTTP side
  std::chrono::milliseconds write_timeout{10000};  // slow-client bound for one WebSocket write
  std::size_t max_http_body = 64 * 1024;
  std::size_t max_campaign_body = 8 << 20;  // a campaign's list (POST /api/campaigns, with the admin token)
  std::size_t max_ws_message = 256 * 1024;
  std::size_t max_outbound_queue_bytes = 1 << 20;  // per call, toward Twilio (~2 min of mu-law as base64)
  std::size_t max_http_header = 16 * 1024;
  std::size_t max_calls = 2000;  // beyond it the voice webhook answers the busy message
  // Nothing at all from the ElevenLabs agent for this long (it pings its clients every few seconds while a
  // conversation is idle): it is dead, and the caller hears the fallback instead of more silence.
  std::chrono::milliseconds agent_idle_timeout{8000};
  // The pipeline's STT and TTS sockets, which may say nothing while the caller is silent.
  std::chrono::milliseconds speech_idle_timeout{30000};
  // Stream sockets waiting for an authenticated `start`: their own budget, never MAX_CALLS.
  std::size_t max_pending_streams = 256;
  std::size_t max_pending_streams_per_address = 32;

  // Service
  unsigned threads = 0;  // io threads; 0: one per core
  unsigned io_threads() const;  // THREADS, resolved
  std::chrono::seconds drain_timeout{300};  // after SIGTERM, how long active calls may run on
  std::string metrics_address;  // host:port for /metrics alone; empty: /metrics on the main port

  std::string say_language = "en-US";
  std::string unavailable_message = "Sorry, our assistant is not available right now. Please call again later.";
  std::string busy_message = "Sorry, all our lines are busy right now. Please call again in a few minutes.";

  // ElevenLabs agent; the embedded local agent answers when no agent id is set.
  std::string elevenlabs_agent_id;
  std::string elevenlabs_api_key;  // optional: private agents, via a signed URL per call
  std::string elevenlabs_base_url = "https://api.elevenlabs.io";
  std::chrono::milliseconds agent_connect_timeout{5000};
  bool dtmf_as_user_message = false;  // DTMF_MODE=user_message (default contextual_update)
  std::string agent_config_override;  // ELEVENLABS_CONFIG_OVERRIDE: conversation_config_override JSON object
  bool prewarm = true;  // PREWARM: open the agent conversation at the webhook, while the phone rings
  std::chrono::milliseconds prewarm_timeout{15000};  // how long it waits for the call's stream

  // AGENT_MODE; unset: elevenlabs-agent when ELEVENLABS_AGENT_ID is set, else local.
  std::optional<agent_mode> agent_mode_setting;
  agent_mode mode() const {
    return agent_mode_setting.value_or(elevenlabs_agent_id.empty() ? agent_mode::local : agent_mode::elevenlabs_agent);
  }

  // Pipeline mode: ElevenLabs speech-to-text and text-to-speech (ELEVENLABS_BASE_URL, ELEVENLABS_API_KEY) around
  // an OpenAI-compatible LLM.
  std::string voice_id;  // ELEVENLABS_VOICE_ID
  std::string tts_model = "eleven_flash_v2_5";   // TTS_MODEL_ID (not eleven_v3: no WebSocket input)
  std::string stt_language;                      // STT_LANGUAGE: language_code; empty: detected
  std::string llm_base_url;                      // LLM_BASE_URL, e.g. https://api.openai.com/v1
  std::string llm_api_key;                       // LLM_API_KEY: Authorization: Bearer
  std::string llm_model;                         // LLM_MODEL
  std::chrono::milliseconds llm_timeout{15000};  // LLM_TIMEOUT_MS: to the response headers, and between reads
  std::string system_prompt =                    // SYSTEM_PROMPT, or SYSTEM_PROMPT_FILE
      "You are a friendly phone assistant. The caller hears your words, so answer briefly, in plain sentences "
      "without lists or markup. Call end_call when the caller says goodbye.";
  std::string pipeline_greeting = "Hello, how can I help you today?";  // PIPELINE_GREETING; empty: none
  std::chrono::milliseconds speech_keepalive{10000};  // SPEECH_KEEPALIVE_MS: quiet STT/TTS sockets are kept alive

  // The embedded local agent (used when no ElevenLabs agent is configured): a voicemail demo (greeting
  // spoken with espeak-ng, tone, message) or an echo (LOCAL_AGENT=echo; greeting tone or LOCAL_GREETING_WAV).
  local_agent_kind local_agent = local_agent_kind::voicemail;
  std::optional<std::filesystem::path> local_greeting_wav;
  std::string local_greeting_text =
      "Hello, you have reached the voice bridge demo. Please leave a message after the tone.";

  // When the agent cannot answer: a prompt (FALLBACK_PROMPT_WAV, or FALLBACK_TEXT spoken with espeak-ng in
  // FALLBACK_LANGUAGE), a tone, then voicemail.
  std::optional<std::filesystem::path> fallback_prompt_wav;
  std::string fallback_text =
      "Sorry, our assistant is not available right now. Please leave a message after the tone, and we will call you back.";
  std::string fallback_language = "en";  // an espeak-ng voice: en, en-us, de, fr, ...
  std::chrono::seconds voicemail_max_length{120};
  std::chrono::milliseconds voicemail_silence{5000};  // 0: silence does not end a message

  // Outbound calls with machine detection: what an answering machine is left after its greeting and beep
  // (VOICEMAIL_MESSAGE_WAV, or VOICEMAIL_MESSAGE_TEXT spoken with espeak-ng in FALLBACK_LANGUAGE; neither: it
  // is hung up on), whether the agent's first turn waits for Twilio's verdict (AMD_HOLD_GREETING), and how
  // long at most (AMD_TIMEOUT_MS: then the agent speaks; a machine verdict later still gets the message).
  std::optional<std::filesystem::path> voicemail_message_wav;
  std::string voicemail_message_text;
  // RING_TIMEOUT_S: how long Twilio lets an outbound call ring before it is no_answer (Twilio's Timeout).
  std::chrono::seconds ring_timeout{30};
  // CAMPAIGN_STATUS_CHECK_S: a campaign's call with no final status this long after it could have rung out
  // (its status callback went to an instance that died) is looked up at Twilio.
  std::chrono::seconds campaign_status_check{60};
  bool amd_hold_greeting = true;
  std::chrono::milliseconds amd_timeout{5000};

  // The business's own systems. PRECALL_WEBHOOK_URL is asked, as each call arrives or is answered, for the
  // call's dynamic variables and conversation override (server/precall.hpp), within PRECALL_TIMEOUT_MS;
  // POSTCALL_WEBHOOK_URL is sent each call's record once it is complete, at least once, retried for
  // POSTCALL_RETRY_HOURS (server/webhook_sender.hpp). Both are signed with WEBHOOK_SECRET (a route's own:
  // webhook_secret_env) in a Voicebridge-Signature header.
  std::string precall_webhook_url, postcall_webhook_url, webhook_secret;
  std::chrono::milliseconds precall_timeout{1500};
  std::chrono::milliseconds postcall_timeout{10000};      // POSTCALL_TIMEOUT_MS: one delivery attempt
  std::chrono::milliseconds postcall_retry_window{24 * 3600 * 1000};  // POSTCALL_RETRY_HOURS (decimals allowed)
  std::chrono::milliseconds postcall_first_retry{5000};   // POSTCALL_FIRST_RETRY_MS: doubled per attempt, to an hour
  // POSTCALL_STATUS_WAIT_MS: how long a call's record waits for Twilio's final status before it is sent anyway.
  std::chrono::milliseconds postcall_status_wait{30000};

  // Calls on disk and in the database.
  std::filesystem::path state_dir = "voicebridge-state";  // STATE_DIR, else systemd's STATE_DIRECTORY
  bool record_calls = false;  // RECORD_CALLS: both directions of every call, as a two-channel WAV
  std::string database_url;   // DATABASE_URL: postgres://... or postgresql://...; empty: SQLite in state_dir
  std::string admin_token;    // ADMIN_TOKEN: bearer token of the read API (/api/calls); empty: API off

  // Several instances (one DATABASE_URL): INSTANCE_ID names this one in the shared rows and in its streams'
  // path (/ws/twilio/stream/<id>), on which the load balancer routes a call's stream to the instance that
  // answered its webhook (Twilio drops query strings). Unset: a random name, and the plain stream path.
  std::string instance_id;
  bool instance_id_configured = false;
  // MAX_RECONNECTS: fresh streams one call may get when its stream is lost with its instance (or handed off by
  // a draining one); past it, the apology.
  unsigned max_reconnects = 3;

  // ROUTES_FILE: many numbers and agents (server/routes.hpp); empty: this configuration is the one route.
  std::filesystem::path routes_file;

  // Transfer to a human over Twilio's REST API (the agent's transfer_to_number tool, or OPERATOR_KEY).
  std::string twilio_account_sid;
  std::string twilio_api_base = "https://api.twilio.com";
  std::string operator_number;  // OPERATOR_NUMBER, E.164; empty: the operator key does nothing
  char operator_key = '0';
  // OPT_OUT_KEY: the key a callee presses to be taken off campaigns (the number goes on the opt-out list when
  // the call's record is stored; the key still reaches the agent, which may confirm it). Unset: none.
  std::optional<char> opt_out_key;

  std::filesystem::path recordings_dir() const { return state_dir / "recordings"; }

  // Derived: wss://host/ws/twilio/stream[/INSTANCE_ID][/io_N] (ws:// for an http base URL, for local runs).
  // `call_context`: the io thread that holds the call's pre-warmed conversation, where its stream should run.
  std::string stream_url(std::optional<unsigned> call_context = std::nullopt) const;
  // The URL Twilio signed for a stream that asked for `path` (this instance's, or another's: a stream the load
  // balancer sent elsewhere is served all the same).
  std::string stream_url_for(std::string_view path) const;
  std::string url_for(std::string_view path) const { return public_base_url + std::string(path); }
};

// "127.0.0.1:9100" or "[::1]:9100" -> host (without brackets) and port; nullopt if it is not host:port.
struct host_port {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<host_port> split_host_port(std::string_view text);
// An absolute http(s) URL with a host, without user or fragment: where a webhook may be sent.
bool is_webhook_url(std::string_view text);

using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;
env_lookup process_environment();

// Flags override the environment. Throws config_error with one line naming the variable at fault.
config load_config(const env_lookup& env, const std::vector<std::string>& args = {});

inline constexpr std::string_view voice_webhook_path = "/api/twilio/voice/inbound";
inline constexpr std::string_view stream_ended_path = "/api/twilio/voice/stream-ended";
inline constexpr std::string_view stream_path = "/ws/twilio/stream";
inline constexpr std::string_view call_context_prefix = "io_";
// An instance key: 1-32 of [a-z0-9-], as in a DNS label (a pod or host name serves).
bool is_instance_id(std::string_view text);
// A stream's path: /ws/twilio/stream, then the instance key that answered its webhook (several instances),
// then io_<N>, the io thread that holds its pre-warmed conversation (several threads). Each is optional.
struct stream_path_parts {
  std::string_view instance;  // empty: none named
  std::optional<unsigned> call_context;
};
std::optional<stream_path_parts> parse_stream_path(std::string_view path);
inline bool is_stream_path(std::string_view path) { return parse_stream_path(path).has_value(); }
inline constexpr std::string_view health_path = "/healthz";
inline constexpr std::string_view metrics_path = "/metrics";
inline constexpr std::string_view status_callback_path = "/api/twilio/voice/status";
inline constexpr std::string_view calls_api_path = "/api/calls";
// Fetched by Twilio when the callee of an outbound call answers (POST /api/calls places it).
inline constexpr std::string_view outbound_twiml_path = "/api/twilio/voice/outbound";
// Twilio's asynchronous answering-machine result for an outbound call.
inline constexpr std::string_view amd_callback_path = "/api/twilio/voice/amd";

}  // namespace voicebridge::app
