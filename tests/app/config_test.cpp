#include <boost/test/unit_test.hpp>
#include <map>

#include "voicebridge/app/config.hpp"

using namespace voicebridge::app;

namespace {

env_lookup env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(std::map<std::string, std::string> vars, std::vector<std::string> args = {}) {
  try {
    load_config(env(std::move(vars)), args);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(an_instance_id_keys_the_stream_path_and_a_bad_one_is_refused) {
  const auto plain = load_config(env({{"PUBLIC_BASE_URL", "https://gw.example.test"}}));
  BOOST_TEST(plain.stream_url() == "wss://gw.example.test/ws/twilio/stream");  // one instance: the plain path
  BOOST_TEST(plain.instance_id.starts_with("gw-"));
  BOOST_TEST(plain.max_reconnects == 3u);
  const auto keyed = load_config(env({{"PUBLIC_BASE_URL", "https://gw.example.test"}, {"INSTANCE_ID", "voicebridge-0"},
                                      {"MAX_RECONNECTS", "1"}}));
  BOOST_TEST(keyed.stream_url() == "wss://gw.example.test/ws/twilio/stream/voicebridge-0");
  BOOST_TEST(keyed.stream_url_for("/ws/twilio/stream/vb2") == "wss://gw.example.test/ws/twilio/stream/vb2");
  BOOST_TEST(keyed.max_reconnects == 1u);
  for (const char* bad : {"VB1", "vb_1", "vb/1", "a-very-long-instance-name-of-33-ch"})
    BOOST_TEST(error_of({{"INSTANCE_ID", bad}}).starts_with("INSTANCE_ID:"), bad);
  BOOST_TEST(error_of({{"MAX_RECONNECTS", "21"}}).starts_with("MAX_RECONNECTS"));
  BOOST_TEST(is_stream_path("/ws/twilio/stream"));
  BOOST_TEST(is_stream_path("/ws/twilio/stream/vb1"));
  for (const char* not_one : {"/ws/twilio/stream/", "/ws/twilio/streamx", "/ws/twilio/stream/vb1/x", "/ws/twilio/stream/VB1"})
    BOOST_TEST(!is_stream_path(not_one), not_one);
}

BOOST_AUTO_TEST_CASE(a_stream_path_may_name_the_io_thread_of_its_call) {
  const auto keyed = load_config(env({{"PUBLIC_BASE_URL", "https://gw.example.test"}, {"INSTANCE_ID", "vb1"}}));
  BOOST_TEST(keyed.stream_url(2u) == "wss://gw.example.test/ws/twilio/stream/vb1/io_2");
  const auto plain = load_config(env({{"PUBLIC_BASE_URL", "https://gw.example.test"}}));
  BOOST_TEST(plain.stream_url(0u) == "wss://gw.example.test/ws/twilio/stream/io_0");

  const auto both = parse_stream_path("/ws/twilio/stream/vb1/io_3");
  BOOST_REQUIRE(both);
  BOOST_TEST(both->instance == "vb1");
  BOOST_TEST(both->call_context.value_or(99) == 3u);
  const auto context_only = parse_stream_path("/ws/twilio/stream/io_12");
  BOOST_REQUIRE(context_only);
  BOOST_TEST(context_only->instance.empty());
  BOOST_TEST(context_only->call_context.value_or(99) == 12u);
  const auto instance_only = parse_stream_path("/ws/twilio/stream/vb1");
  BOOST_REQUIRE(instance_only);
  BOOST_TEST(!instance_only->call_context);
  const auto bare = parse_stream_path("/ws/twilio/stream");
  BOOST_REQUIRE(bare);
  BOOST_TEST((bare->instance.empty() && !bare->call_context));
  for (const char* not_one :
       {"/ws/twilio/stream/io_", "/ws/twilio/stream/io_x", "/ws/twilio/stream/io_-1", "/ws/twilio/stream/io_12345",
        "/ws/twilio/stream/io_1/vb1", "/ws/twilio/stream//io_1", "/ws/twilio/stream/vb1/io_1/", "/ws/twilio/stream/vb1/",
        "/ws/twilio/stream/vb1/io_1x", "/ws/twilio/stream/vb1/io_ 1", "/ws/twilio/stream/io_1/"})
    BOOST_TEST(!is_stream_path(not_one), not_one);
}

BOOST_AUTO_TEST_CASE(defaults_need_no_environment) {
  const auto c = load_config(env({}));
  BOOST_TEST(c.port == 8080);
  BOOST_TEST(c.bind_address == "0.0.0.0");
  BOOST_TEST(c.public_base_url == "http://127.0.0.1:8080");
  BOOST_TEST(c.stream_url() == "ws://127.0.0.1:8080/ws/twilio/stream");
}

BOOST_AUTO_TEST_CASE(reads_environment_and_flags_override_it) {
  const auto c = load_config(env({{"PORT", "9000"}, {"PUBLIC_BASE_URL", "https://gw.example.com/"}, {"LOG_FORMAT", "json"}}),
                             {"--port=9001", "--log-level", "debug"});
  BOOST_TEST(c.port == 9001);
  BOOST_TEST(c.public_base_url == "https://gw.example.com");
  BOOST_TEST(c.stream_url() == "wss://gw.example.com/ws/twilio/stream");
  BOOST_TEST((c.log_format_ == log_format::json));
  BOOST_TEST((c.log_level_ == log_level::debug));
}

BOOST_AUTO_TEST_CASE(invalid_values_name_the_variable) {
  BOOST_TEST(error_of({{"PUBLIC_BASE_URL", "gw.example.com"}}).starts_with("PUBLIC_BASE_URL:"));
  BOOST_TEST(error_of({{"PUBLIC_BASE_URL", "ftp://gw.example.com"}}).starts_with("PUBLIC_BASE_URL:"));
  BOOST_TEST(error_of({{"PUBLIC_BASE_URL", "https://gw.example.com/base"}}).starts_with("PUBLIC_BASE_URL:"));
  BOOST_TEST(error_of({{"PUBLIC_BASE_URL", "https://gw.example.com?x=1"}}).starts_with("PUBLIC_BASE_URL:"));
  BOOST_TEST(error_of({{"PORT", "70000"}}).starts_with("PORT:"));
  BOOST_TEST(error_of({{"PORT", "80x"}}).starts_with("PORT:"));
  BOOST_TEST(error_of({{"LOG_LEVEL", "loud"}}).starts_with("LOG_LEVEL:"));
  BOOST_TEST(error_of({{"LOG_FORMAT", "xml"}}).starts_with("LOG_FORMAT:"));
  BOOST_TEST(error_of({{"LOCAL_GREETING_WAV", "/nonexistent.wav"}}).starts_with("LOCAL_GREETING_WAV:"));
  BOOST_TEST(error_of({}, {"--port"}).find("--port") != std::string::npos);
  BOOST_TEST(error_of({{"DTMF_MODE", "tones"}}).starts_with("DTMF_MODE:"));
  BOOST_TEST(error_of({{"ELEVENLABS_CONFIG_OVERRIDE", "[1]"}}).starts_with("ELEVENLABS_CONFIG_OVERRIDE:"));
  BOOST_TEST(error_of({{"ELEVENLABS_BASE_URL", "wss://api.elevenlabs.io"}}).starts_with("ELEVENLABS_BASE_URL:"));
}

BOOST_AUTO_TEST_CASE(service_limits_and_prewarm_settings) {
  const auto d = load_config(env({}));
  BOOST_TEST(d.max_calls == 2000u);
  BOOST_TEST(d.threads == 0u);  // one per core
  BOOST_TEST(d.drain_timeout.count() == 300);
  BOOST_TEST(d.prewarm);
  BOOST_TEST(d.metrics_address.empty());
  const auto c = load_config(env({{"MAX_CALLS", "5"}, {"THREADS", "3"}, {"DRAIN_TIMEOUT_S", "0"},
                                  {"METRICS_ADDRESS", "127.0.0.1:9100"}, {"PREWARM", "0"},
                                  {"PREWARM_TIMEOUT_MS", "2500"}, {"MAX_HTTP_HEADER_BYTES", "4096"},
                                  {"AGENT_IDLE_TIMEOUT_MS", "9000"}, {"BUSY_MESSAGE", "Busy, sorry."}}));
  BOOST_TEST(c.max_calls == 5u);
  BOOST_TEST(c.threads == 3u);
  BOOST_TEST(c.drain_timeout.count() == 0);
  BOOST_TEST(c.metrics_address == "127.0.0.1:9100");
  BOOST_TEST(!c.prewarm);
  BOOST_TEST(c.prewarm_timeout.count() == 2500);
  BOOST_TEST(c.max_http_header == 4096u);
  BOOST_TEST(c.agent_idle_timeout.count() == 9000);
  BOOST_TEST(c.busy_message == "Busy, sorry.");
  const auto amd = load_config(env({{"AMD_HOLD_GREETING", "0"}, {"AMD_TIMEOUT_MS", "3000"},
                                    {"VOICEMAIL_MESSAGE_TEXT", "Please call us back."}}));
  BOOST_TEST(!amd.amd_hold_greeting);
  BOOST_TEST(amd.amd_timeout.count() == 3000);
  BOOST_TEST(amd.voicemail_message_text == "Please call us back.");
  BOOST_TEST(d.amd_hold_greeting);
  BOOST_TEST(d.voicemail_message_text.empty());  // no message: a machine is hung up on
  BOOST_TEST(error_of({{"AMD_TIMEOUT_MS", "0"}}).starts_with("AMD_TIMEOUT_MS:"));
  BOOST_TEST(!d.opt_out_key.has_value());
  BOOST_TEST((load_config(env({{"OPT_OUT_KEY", "9"}})).opt_out_key == std::optional<char>('9')));
  BOOST_TEST(error_of({{"OPT_OUT_KEY", "99"}}).starts_with("OPT_OUT_KEY:"));
  BOOST_TEST(d.ring_timeout.count() == 30);
  BOOST_TEST(load_config(env({{"RING_TIMEOUT_S", "45"}})).ring_timeout.count() == 45);
  BOOST_TEST(error_of({{"RING_TIMEOUT_S", "4"}}).starts_with("RING_TIMEOUT_S:"));
  BOOST_TEST(error_of({{"VOICEMAIL_MESSAGE_WAV", "/nonexistent/message.wav"}}).starts_with("VOICEMAIL_MESSAGE_WAV: no such file"));
  BOOST_TEST(error_of({{"MAX_CALLS", "0"}}).starts_with("MAX_CALLS:"));
  BOOST_TEST(error_of({{"THREADS", "many"}}).starts_with("THREADS:"));
  BOOST_TEST(error_of({{"DRAIN_TIMEOUT_S", "-1"}}).starts_with("DRAIN_TIMEOUT_S:"));
  BOOST_TEST(error_of({{"METRICS_ADDRESS", "9100"}}).starts_with("METRICS_ADDRESS:"));
  BOOST_TEST(error_of({{"METRICS_ADDRESS", "127.0.0.1:99999"}}).starts_with("METRICS_ADDRESS:"));
  BOOST_TEST(error_of({{"METRICS_ADDRESS", "localhost:9100"}}).starts_with("METRICS_ADDRESS:"));
  BOOST_TEST(load_config(env({{"METRICS_ADDRESS", "[::1]:9100"}})).metrics_address == "[::1]:9100");
  BOOST_TEST(error_of({{"PREWARM", "yes"}}).starts_with("PREWARM:"));
  BOOST_TEST(error_of({{"MAX_HTTP_HEADER_BYTES", "10"}}).starts_with("MAX_HTTP_HEADER_BYTES:"));
}

// A dead agent costs the caller at most about 10 s of silence by default; the pipeline's speech sockets,
// quiet while the caller is, keep their own longer bound; unauthenticated sockets have their own budget.
BOOST_AUTO_TEST_CASE(idle_bounds_and_the_pending_stream_budget) {
  const auto d = load_config(env({}));
  BOOST_TEST(d.agent_idle_timeout.count() == 8000);
  BOOST_TEST(d.speech_idle_timeout.count() == 30000);
  BOOST_TEST(d.max_pending_streams == 256u);
  BOOST_TEST(d.max_pending_streams_per_address == 32u);
  const auto c = load_config(env({{"SPEECH_IDLE_TIMEOUT_MS", "45000"}, {"MAX_PENDING_STREAMS", "10"},
                                  {"MAX_PENDING_STREAMS_PER_ADDRESS", "3"}}));
  BOOST_TEST(c.speech_idle_timeout.count() == 45000);
  BOOST_TEST(c.max_pending_streams == 10u);
  BOOST_TEST(c.max_pending_streams_per_address == 3u);
  BOOST_TEST(error_of({{"MAX_PENDING_STREAMS", "0"}}).starts_with("MAX_PENDING_STREAMS:"));
  BOOST_TEST(error_of({{"MAX_PENDING_STREAMS_PER_ADDRESS", "x"}}).starts_with("MAX_PENDING_STREAMS_PER_ADDRESS:"));
}

// <Say> texts must be text XML can carry: a control character would make every busy answer ill-formed TwiML.
BOOST_AUTO_TEST_CASE(say_texts_that_twiml_cannot_carry_stop_the_start) {
  BOOST_TEST(error_of({{"BUSY_MESSAGE", "Busy\x1b[2J"}}).starts_with("BUSY_MESSAGE:"));
  BOOST_TEST(error_of({{"UNAVAILABLE_MESSAGE", "Away\x01"}}).starts_with("UNAVAILABLE_MESSAGE:"));
  BOOST_TEST(error_of({{"SAY_LANGUAGE", "en\xff"}}).starts_with("SAY_LANGUAGE:"));
  BOOST_TEST(load_config(env({{"BUSY_MESSAGE", "Line one.\nLine two."}})).busy_message == "Line one.\nLine two.");
}

BOOST_AUTO_TEST_CASE(secrets_are_checked_but_never_echoed) {
  const auto e = error_of({{"TWILIO_STREAM_TOKEN", "short-secret"}});
  BOOST_TEST(e.starts_with("TWILIO_STREAM_TOKEN:"));
  BOOST_TEST(e.find("short-secret") == std::string::npos);
  const auto admin = error_of({{"ADMIN_TOKEN", "short-admin"}});
  BOOST_TEST(admin.starts_with("ADMIN_TOKEN:"));
  BOOST_TEST(admin.find("short-admin") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(fallback_records_and_transfer_settings) {
  const auto d = load_config(env({}));
  BOOST_TEST((d.local_agent == local_agent_kind::voicemail));
  BOOST_TEST(d.fallback_language == "en");
  BOOST_TEST(d.voicemail_max_length.count() == 120);
  BOOST_TEST(!d.record_calls);
  BOOST_TEST(d.database_url.empty());  // SQLite
  BOOST_TEST(d.state_dir == std::filesystem::current_path() / "voicebridge-state");
  BOOST_TEST(d.twilio_api_base == "https://api.twilio.com");
  BOOST_TEST(d.operator_key == '0');
  const auto c = load_config(env({{"LOCAL_AGENT", "echo"}, {"FALLBACK_LANGUAGE", "de"}, {"FALLBACK_TEXT", "Bitte"},
                                  {"VOICEMAIL_MAX_S", "30"}, {"VOICEMAIL_SILENCE_MS", "0"}, {"RECORD_CALLS", "1"},
                                  {"DATABASE_URL", "postgresql://vb@db.internal/calls"}, {"STATE_DIRECTORY", "/var/lib/voicebridge"},
                                  {"TWILIO_ACCOUNT_SID", "AC1"}, {"OPERATOR_NUMBER", "+15550001111"}, {"OPERATOR_KEY", "#"}}));
  BOOST_TEST((c.local_agent == local_agent_kind::echo));
  BOOST_TEST(c.fallback_language == "de");
  BOOST_TEST(c.voicemail_max_length.count() == 30);
  BOOST_TEST(c.voicemail_silence.count() == 0);
  BOOST_TEST(c.record_calls);
  BOOST_TEST(c.state_dir == "/var/lib/voicebridge");  // systemd's StateDirectory=
  BOOST_TEST(c.recordings_dir() == "/var/lib/voicebridge/recordings");
  BOOST_TEST(c.operator_key == '#');
  BOOST_TEST(load_config(env({{"STATE_DIR", "/srv/vb"}, {"STATE_DIRECTORY", "/var/lib/x"}})).state_dir == "/srv/vb");
  BOOST_TEST(error_of({{"LOCAL_AGENT", "parrot"}}).starts_with("LOCAL_AGENT:"));
  BOOST_TEST(error_of({{"RECORD_CALLS", "yes"}}).starts_with("RECORD_CALLS:"));
  BOOST_TEST(error_of({{"DATABASE_URL", "mysql://x"}}).starts_with("DATABASE_URL:"));
  BOOST_TEST(error_of({{"FALLBACK_PROMPT_WAV", "/nonexistent.wav"}}).starts_with("FALLBACK_PROMPT_WAV:"));
  BOOST_TEST(error_of({{"VOICEMAIL_MAX_S", "0"}}).starts_with("VOICEMAIL_MAX_S:"));
  BOOST_TEST(error_of({{"OPERATOR_KEY", "00"}}).starts_with("OPERATOR_KEY:"));
  BOOST_TEST(error_of({{"TWILIO_API_BASE", "ftp://x"}}).starts_with("TWILIO_API_BASE:"));
}

BOOST_AUTO_TEST_CASE(agent_mode_follows_the_agent_id_unless_set) {
  BOOST_TEST((load_config(env({})).mode() == agent_mode::local));
  BOOST_TEST((load_config(env({{"ELEVENLABS_AGENT_ID", "agent_1"}})).mode() == agent_mode::elevenlabs_agent));
  BOOST_TEST((load_config(env({{"ELEVENLABS_AGENT_ID", "agent_1"}, {"AGENT_MODE", "local"}})).mode() == agent_mode::local));
  BOOST_TEST(error_of({{"AGENT_MODE", "elevenlabs-agent"}}).starts_with("ELEVENLABS_AGENT_ID:"));
  BOOST_TEST(error_of({{"AGENT_MODE", "parrot"}}).starts_with("AGENT_MODE:"));
}

BOOST_AUTO_TEST_CASE(pipeline_mode_needs_a_voice_and_a_model) {
  const std::map<std::string, std::string> pipeline{{"AGENT_MODE", "pipeline"},
                                                    {"ELEVENLABS_VOICE_ID", "voice_1"},
                                                    {"LLM_BASE_URL", "https://llm.example/v1"},
                                                    {"LLM_MODEL", "gpt-test"},
                                                    {"LLM_API_KEY", "sk-test"},
                                                    {"STT_LANGUAGE", "de"},
                                                    {"SPEECH_KEEPALIVE_MS", "5000"},
                                                    {"PIPELINE_GREETING", "Guten Tag!"}};
  const auto c = load_config(env(pipeline));
  BOOST_TEST((c.mode() == agent_mode::pipeline));
  BOOST_TEST(c.voice_id == "voice_1");
  BOOST_TEST(c.tts_model == "eleven_flash_v2_5");
  BOOST_TEST(c.llm_base_url == "https://llm.example/v1");
  BOOST_TEST(c.stt_language == "de");
  BOOST_TEST(c.speech_keepalive.count() == 5000);
  BOOST_TEST(c.pipeline_greeting == "Guten Tag!");
  BOOST_TEST(!c.system_prompt.empty());
  auto without = [&](const std::string& name) {
    auto vars = pipeline;
    vars.erase(name);
    return error_of(vars);
  };
  BOOST_TEST(without("ELEVENLABS_VOICE_ID").starts_with("ELEVENLABS_VOICE_ID:"));
  BOOST_TEST(without("LLM_BASE_URL").starts_with("LLM_BASE_URL:"));
  BOOST_TEST(without("LLM_MODEL").starts_with("LLM_MODEL:"));
  auto with = [&](const std::string& name, const std::string& value) {
    auto vars = pipeline;
    vars[name] = value;
    return error_of(vars);
  };
  BOOST_TEST(with("ELEVENLABS_VOICE_ID", "a/b?c").starts_with("ELEVENLABS_VOICE_ID:"));  // goes into the URL path
  BOOST_TEST(with("TTS_MODEL_ID", "eleven_v3").starts_with("TTS_MODEL_ID:"));
  BOOST_TEST(with("LLM_BASE_URL", "ftp://x").starts_with("LLM_BASE_URL:"));
  BOOST_TEST(with("SPEECH_KEEPALIVE_MS", "25000").starts_with("SPEECH_KEEPALIVE_MS:"));  // over the TTS 20 s
  BOOST_TEST(with("SYSTEM_PROMPT_FILE", "/nonexistent").starts_with("SYSTEM_PROMPT_FILE:"));
}

BOOST_AUTO_TEST_CASE(webhooks_need_urls_a_secret_and_bounds_that_keep_a_call_moving) {
  const auto c = load_config(env({{"POSTCALL_WEBHOOK_URL", "https://crm.example.com/hooks"},
                                  {"PRECALL_WEBHOOK_URL", "http://127.0.0.1:9000/who"},
                                  {"WEBHOOK_SECRET", "whsec_0123456789abcdef"},
                                  {"POSTCALL_RETRY_HOURS", "0.5"},
                                  {"PRECALL_TIMEOUT_MS", "800"}}));
  BOOST_TEST(c.postcall_webhook_url == "https://crm.example.com/hooks");
  BOOST_TEST(c.precall_webhook_url == "http://127.0.0.1:9000/who");
  BOOST_TEST(c.postcall_retry_window.count() == 1'800'000);
  BOOST_TEST(c.precall_timeout.count() == 800);
  const auto defaults = load_config(env({}));
  BOOST_TEST(defaults.postcall_retry_window.count() == 24 * 3'600'000);
  BOOST_TEST(defaults.precall_timeout.count() == 1500);
  BOOST_TEST(error_of({{"POSTCALL_WEBHOOK_URL", "https://crm.example.com/hooks"}}).starts_with("WEBHOOK_SECRET: required"));
  BOOST_TEST(error_of({{"POSTCALL_WEBHOOK_URL", "crm.example.com"}}).starts_with("POSTCALL_WEBHOOK_URL:"));
  BOOST_TEST(error_of({{"PRECALL_WEBHOOK_URL", "https://user:pw@crm.example.com/"}}).starts_with("PRECALL_WEBHOOK_URL:"));
  const auto short_secret = error_of({{"WEBHOOK_SECRET", "tiny-secret"}});
  BOOST_TEST(short_secret.starts_with("WEBHOOK_SECRET:"));
  BOOST_TEST(short_secret.find("tiny-secret") == std::string::npos);
  for (const char* hours : {"0", "-1", "721", "1h", "nan"})
    BOOST_TEST(error_of({{"POSTCALL_RETRY_HOURS", hours}}).starts_with("POSTCALL_RETRY_HOURS:"), hours);
  BOOST_TEST(error_of({{"PRECALL_TIMEOUT_MS", "20000"}}).starts_with("PRECALL_TIMEOUT_MS:"));
  // The agent's connection waits for the answer: its own bound must leave room for it.
  BOOST_TEST(error_of({{"PRECALL_TIMEOUT_MS", "5000"}, {"AGENT_CONNECT_TIMEOUT_MS", "4000"}}).starts_with("PRECALL_TIMEOUT_MS:"));
}

BOOST_AUTO_TEST_SUITE_END()
