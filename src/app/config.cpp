#include "voicebridge/app/config.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include <arpa/inet.h>

#include "util/utf8.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::app {
namespace {

// "--public-base-url=x" or "--public-base-url x" -> PUBLIC_BASE_URL=x
std::map<std::string, std::string> parse_flags(const std::vector<std::string>& args) {
  std::map<std::string, std::string> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--")) throw config_error("unexpected argument '" + arg + "' (flags look like --port=8080)");
    std::string name = arg.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw config_error("flag --" + name + " needs a value");
    }
    for (char& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    flags[name] = value;
  }
  return flags;
}

template <class Int>
Int parse_int(const std::string& name, const std::string& text, Int min, Int max) {
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < static_cast<long long>(min) ||
      v > static_cast<long long>(max))
    throw config_error(name + ": expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                       ", got '" + text + "'");
  return static_cast<Int>(v);
}

std::string normalize_base_url(const std::string& text) {
  const std::string name = "PUBLIC_BASE_URL";
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) throw config_error(name + ": '" + text + "' is not an absolute URL (expected https://host[:port])");
  if (parsed->scheme() != "https" && parsed->scheme() != "http")
    throw config_error(name + ": scheme must be https (or http for local tests), got '" + std::string(parsed->scheme()) + "'");
  if (parsed->host().empty()) throw config_error(name + ": '" + text + "' has no host");
  if (parsed->has_userinfo() || parsed->has_query() || parsed->has_fragment())
    throw config_error(name + ": must be scheme://host[:port] without user, query or fragment");
  if (!parsed->encoded_path().empty() && parsed->encoded_path() != "/")
    throw config_error(name + ": must not have a path, got '" + std::string(parsed->encoded_path()) + "'");
  std::string out = text;
  if (out.ends_with('/')) out.pop_back();
  return out;
}

// Ids that go into a URL path or query as they are.
void require_id(const std::string& name, const std::string& value) {
  if (value.empty() || value.size() > 128 || value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
    throw config_error(name + ": expected letters, digits, '_' or '-', got '" + value + "'");
}

template <class Get>
void load_pipeline_settings(const Get& get, config& c) {
  if (auto v = get("AGENT_MODE")) {
    if (*v == "local") c.agent_mode_setting = agent_mode::local;
    else if (*v == "elevenlabs-agent") c.agent_mode_setting = agent_mode::elevenlabs_agent;
    else if (*v == "pipeline") c.agent_mode_setting = agent_mode::pipeline;
    else throw config_error("AGENT_MODE: expected local, elevenlabs-agent or pipeline, got '" + *v + "'");
  }
  if (c.mode() == agent_mode::elevenlabs_agent && c.elevenlabs_agent_id.empty())
    throw config_error("ELEVENLABS_AGENT_ID: required with AGENT_MODE=elevenlabs-agent");
  if (auto v = get("ELEVENLABS_VOICE_ID")) c.voice_id = *v;
  if (auto v = get("TTS_MODEL_ID")) c.tts_model = *v;
  if (auto v = get("STT_LANGUAGE")) c.stt_language = *v;
  if (auto v = get("LLM_BASE_URL")) {
    auto parsed = boost::urls::parse_absolute_uri(*v);
    if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty() ||
        parsed->has_query() || parsed->has_userinfo())
      throw config_error("LLM_BASE_URL: expected https://host[:port][/path] (the part before /chat/completions), got '" + *v + "'");
    c.llm_base_url = *v;
  }
  if (auto v = get("LLM_API_KEY")) c.llm_api_key = *v;
  if (auto v = get("LLM_MODEL")) c.llm_model = *v;
  if (auto v = get("LLM_TIMEOUT_MS")) c.llm_timeout = std::chrono::milliseconds(parse_int<long long>("LLM_TIMEOUT_MS", *v, 100, 600'000));
  if (auto v = get("SYSTEM_PROMPT")) c.system_prompt = *v;
  if (auto v = get("SYSTEM_PROMPT_FILE")) {
    std::ifstream file(*v);
    if (!file) throw config_error("SYSTEM_PROMPT_FILE: cannot read '" + *v + "'");
    c.system_prompt.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  if (auto v = get("PIPELINE_GREETING")) c.pipeline_greeting = *v;
  // The TTS socket closes after 20 s without input (ElevenLabs API reference, "Multi-Context WebSocket", inactivity_timeout: 20 s by default): the keep-alive must come sooner.
  if (auto v = get("SPEECH_KEEPALIVE_MS"))
    c.speech_keepalive = std::chrono::milliseconds(parse_int<long long>("SPEECH_KEEPALIVE_MS", *v, 100, 19'000));
  if (c.mode() != agent_mode::pipeline) return;
  require_id("ELEVENLABS_VOICE_ID", c.voice_id);
  require_id("TTS_MODEL_ID", c.tts_model);
  if (c.tts_model == "eleven_v3") throw config_error("TTS_MODEL_ID: eleven_v3 has no WebSocket input; use eleven_flash_v2_5");
  if (!c.stt_language.empty()) require_id("STT_LANGUAGE", c.stt_language);
  if (c.llm_base_url.empty()) throw config_error("LLM_BASE_URL: required with AGENT_MODE=pipeline");
  if (c.llm_model.empty()) throw config_error("LLM_MODEL: required with AGENT_MODE=pipeline");
}

// The business's webhooks: URLs that can be reached, a secret to sign with, bounds that keep a call moving.
template <class Get>
void load_webhook_settings(const Get& get, config& c) {
  for (auto [name, field] : {std::pair{"PRECALL_WEBHOOK_URL", &c.precall_webhook_url},
                             std::pair{"POSTCALL_WEBHOOK_URL", &c.postcall_webhook_url}}) {
    const auto v = get(name);
    if (!v) continue;
    if (!is_webhook_url(*v)) throw config_error(std::string(name) + ": expected https://host[:port]/path (http:// for a local receiver)");
    *field = *v;
  }
  if (auto v = get("WEBHOOK_SECRET")) {
    if (v->size() < 16) throw config_error("WEBHOOK_SECRET: must be at least 16 characters");
    c.webhook_secret = *v;
  }
  // Unsigned webhooks would let anyone feed a CRM or a conversation: a URL without a secret stops the start.
  if ((!c.precall_webhook_url.empty() || !c.postcall_webhook_url.empty()) && c.webhook_secret.empty())
    throw config_error("WEBHOOK_SECRET: required with PRECALL_WEBHOOK_URL or POSTCALL_WEBHOOK_URL");
  const auto ms = [&](const char* name, std::chrono::milliseconds& out, long long min, long long max) {
    if (auto v = get(name)) out = std::chrono::milliseconds(parse_int<long long>(name, *v, min, max));
  };
  ms("PRECALL_TIMEOUT_MS", c.precall_timeout, 50, 10'000);
  // The agent's initiation waits for the answer inside AGENT_CONNECT_TIMEOUT_MS (counted from the same webhook).
  if (c.precall_timeout >= c.agent_connect_timeout)
    throw config_error("PRECALL_TIMEOUT_MS: must be below AGENT_CONNECT_TIMEOUT_MS (" +
                       std::to_string(c.agent_connect_timeout.count()) + ")");
  ms("POSTCALL_TIMEOUT_MS", c.postcall_timeout, 100, 120'000);
  ms("POSTCALL_FIRST_RETRY_MS", c.postcall_first_retry, 10, 3'600'000);
  ms("POSTCALL_STATUS_WAIT_MS", c.postcall_status_wait, 0, 600'000);
  if (auto v = get("POSTCALL_RETRY_HOURS")) {
    char* end = nullptr;
    const double hours = std::strtod(v->c_str(), &end);
    if (end != v->c_str() + v->size() || !(hours > 0) || hours > 720)
      throw config_error("POSTCALL_RETRY_HOURS: expected a number of hours above 0 and up to 720, got '" + *v + "'");
    c.postcall_retry_window = std::chrono::milliseconds(static_cast<long long>(hours * 3'600'000));
  }
}

}  // namespace

unsigned config::io_threads() const { return threads ? threads : std::max(1u, std::thread::hardware_concurrency()); }

std::string config::stream_url(std::optional<unsigned> call_context) const {
  std::string path(stream_path);
  if (instance_id_configured) path += "/" + instance_id;
  if (call_context) path += std::string("/") + std::string(call_context_prefix) + std::to_string(*call_context);
  return stream_url_for(path);
}

std::string config::stream_url_for(std::string_view path) const {
  if (public_base_url.starts_with("https://")) return "wss://" + public_base_url.substr(8) + std::string(path);
  return "ws://" + public_base_url.substr(7) + std::string(path);
}

bool is_instance_id(std::string_view text) {
  return !text.empty() && text.size() <= 32 &&
         text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos;
}

std::optional<stream_path_parts> parse_stream_path(std::string_view path) {
  if (!path.starts_with(stream_path)) return std::nullopt;
  path.remove_prefix(stream_path.size());
  stream_path_parts parts;
  if (path.empty()) return parts;
  if (path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  const auto slash = path.find('/');
  std::string_view instance = path.substr(0, slash);
  std::string_view context = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  // A single segment may be either: an instance key never holds the '_' of io_<N>.
  const bool context_only = slash == std::string_view::npos && instance.starts_with(call_context_prefix);
  if (context_only) {
    std::swap(instance, context);
  } else {
    if (!is_instance_id(instance)) return std::nullopt;
    parts.instance = instance;
  }
  if (slash == std::string_view::npos && !context_only) return parts;
  if (!context.starts_with(call_context_prefix)) return std::nullopt;
  const auto digits = context.substr(call_context_prefix.size());
  unsigned index = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (digits.empty() || digits.size() > 4 || ec != std::errc() || end != digits.data() + digits.size())
    return std::nullopt;
  parts.call_context = index;
  return parts;
}

bool is_webhook_url(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  return parsed && (parsed->scheme() == "http" || parsed->scheme() == "https") && !parsed->host().empty() &&
         !parsed->has_userinfo() && !parsed->has_fragment();
}

std::optional<host_port> split_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || value > 65535) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host_port{std::string(host), static_cast<std::uint16_t>(value)};
}

env_lookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  };
}

config load_config(const env_lookup& env, const std::vector<std::string>& args) {
  const auto flags = parse_flags(args);
  auto get = [&](const std::string& name) -> std::optional<std::string> {
    if (auto it = flags.find(name); it != flags.end()) return it->second;
    auto v = env(name);
    if (v && v->empty()) return std::nullopt;  // VAR= in an env file means unset
    return v;
  };
  auto millis = [&](const std::string& name, std::chrono::milliseconds& out) {
    if (auto v = get(name)) out = std::chrono::milliseconds(parse_int<long long>(name, *v, 1, 3'600'000));
  };
  auto bytes = [&](const std::string& name, std::size_t& out, std::size_t min, std::size_t max) {
    if (auto v = get(name)) out = parse_int<std::size_t>(name, *v, min, max);
  };

  auto flag = [&](const std::string& name, bool& out) {
    if (auto v = get(name)) {
      if (*v != "0" && *v != "1") throw config_error(name + ": expected 1 or 0, got '" + *v + "'");
      out = *v == "1";
    }
  };

  config c;
  if (auto v = get("BIND_ADDRESS")) c.bind_address = *v;
  if (auto v = get("PORT")) c.port = parse_int<std::uint16_t>("PORT", *v, 0, 65535);
  c.public_base_url = normalize_base_url(get("PUBLIC_BASE_URL").value_or("http://127.0.0.1:" + std::to_string(c.port)));
  c.twilio_auth_token = get("TWILIO_AUTH_TOKEN").value_or("");
  c.twilio_stream_token = get("TWILIO_STREAM_TOKEN").value_or("");
  // It keys the per-call token HMAC, and secrets are redacted from logs by value: short ones weaken both.
  if (!c.twilio_stream_token.empty() && c.twilio_stream_token.size() < 16)
    throw config_error("TWILIO_STREAM_TOKEN: must be at least 16 characters");
  if (!c.twilio_auth_token.empty() && c.twilio_auth_token.size() < 8)
    throw config_error("TWILIO_AUTH_TOKEN: must be at least 8 characters");
  if (auto v = get("LOG_LEVEL")) {
    static const std::map<std::string, log_level> levels{
        {"debug", log_level::debug}, {"info", log_level::info}, {"warn", log_level::warn}, {"error", log_level::error}};
    auto it = levels.find(*v);
    if (it == levels.end()) throw config_error("LOG_LEVEL: expected debug, info, warn or error, got '" + *v + "'");
    c.log_level_ = it->second;
  }
  if (auto v = get("LOG_FORMAT")) {
    if (*v == "text") c.log_format_ = log_format::text;
    else if (*v == "json") c.log_format_ = log_format::json;
    else throw config_error("LOG_FORMAT: expected text or json, got '" + *v + "'");
  }
  if (auto v = get("STREAM_TOKEN_TTL_S"))
    c.stream_token_ttl = std::chrono::seconds(parse_int<long long>("STREAM_TOKEN_TTL_S", *v, 10, 86400));
  millis("STREAM_AUTH_TIMEOUT_MS", c.stream_auth_timeout);
  millis("TWILIO_IDLE_TIMEOUT_MS", c.twilio_idle_timeout);
  millis("HTTP_TIMEOUT_MS", c.http_timeout);
  millis("WRITE_TIMEOUT_MS", c.write_timeout);
  bytes("MAX_HTTP_BODY_BYTES", c.max_http_body, 1024, 16 << 20);
  bytes("MAX_CAMPAIGN_BODY_BYTES", c.max_campaign_body, 1024, 64 << 20);
  bytes("MAX_WS_MESSAGE_BYTES", c.max_ws_message, 4096, 16 << 20);
  bytes("MAX_OUTBOUND_QUEUE_BYTES", c.max_outbound_queue_bytes, 16 * 1024, 256 << 20);
  bytes("MAX_HTTP_HEADER_BYTES", c.max_http_header, 1024, 1 << 20);
  if (auto v = get("MAX_CALLS")) c.max_calls = parse_int<std::size_t>("MAX_CALLS", *v, 1, 1'000'000);
  millis("AGENT_IDLE_TIMEOUT_MS", c.agent_idle_timeout);
  millis("SPEECH_IDLE_TIMEOUT_MS", c.speech_idle_timeout);
  if (auto v = get("MAX_PENDING_STREAMS"))
    c.max_pending_streams = parse_int<std::size_t>("MAX_PENDING_STREAMS", *v, 1, 1'000'000);
  if (auto v = get("MAX_PENDING_STREAMS_PER_ADDRESS"))
    c.max_pending_streams_per_address = parse_int<std::size_t>("MAX_PENDING_STREAMS_PER_ADDRESS", *v, 1, 1'000'000);
  if (auto v = get("THREADS")) c.threads = parse_int<unsigned>("THREADS", *v, 1, 1024);
  if (auto v = get("DRAIN_TIMEOUT_S"))
    c.drain_timeout = std::chrono::seconds(parse_int<long long>("DRAIN_TIMEOUT_S", *v, 0, 86400));
  if (auto v = get("METRICS_ADDRESS")) {
    const auto address = split_host_port(*v);
    if (!address) throw config_error("METRICS_ADDRESS: expected host:port with a port up to 65535, got '" + *v + "'");
    unsigned char ip[16];
    if (inet_pton(AF_INET, address->host.c_str(), ip) != 1 && inet_pton(AF_INET6, address->host.c_str(), ip) != 1)
      throw config_error("METRICS_ADDRESS: the host must be an IP address (127.0.0.1:9100, [::1]:9100), got '" + *v + "'");
    c.metrics_address = *v;
  }
  // Spoken through TwiML's <Say>: text XML can carry, or the start stops naming the variable.
  for (auto [name, field] : {std::pair{"BUSY_MESSAGE", &c.busy_message}, std::pair{"SAY_LANGUAGE", &c.say_language},
                             std::pair{"UNAVAILABLE_MESSAGE", &c.unavailable_message}}) {
    auto v = get(name);
    if (!v) continue;
    if (!util::is_xml_text(*v))
      throw config_error(std::string(name) + ": holds a control character or bytes that are not UTF-8 (TwiML cannot carry them)");
    *field = *v;
  }
  if (auto v = get("ELEVENLABS_AGENT_ID")) c.elevenlabs_agent_id = *v;
  if (auto v = get("ELEVENLABS_API_KEY")) c.elevenlabs_api_key = *v;
  if (auto v = get("ELEVENLABS_BASE_URL")) {
    auto parsed = boost::urls::parse_absolute_uri(*v);
    if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty())
      throw config_error("ELEVENLABS_BASE_URL: expected https://host[:port] or http://host[:port], got '" + *v + "'");
    c.elevenlabs_base_url = *v;
  }
  millis("AGENT_CONNECT_TIMEOUT_MS", c.agent_connect_timeout);
  if (auto v = get("DTMF_MODE")) {
    if (*v != "contextual_update" && *v != "user_message")
      throw config_error("DTMF_MODE: expected contextual_update or user_message, got '" + *v + "'");
    c.dtmf_as_user_message = *v == "user_message";
  }
  if (auto v = get("ELEVENLABS_CONFIG_OVERRIDE")) {
    boost::json::error_code ec;
    auto parsed = boost::json::parse(*v, ec);
    if (ec || !parsed.is_object()) throw config_error("ELEVENLABS_CONFIG_OVERRIDE: not a JSON object");
    c.agent_config_override = *v;
  }
  flag("PREWARM", c.prewarm);
  millis("PREWARM_TIMEOUT_MS", c.prewarm_timeout);
  load_pipeline_settings(get, c);
  load_webhook_settings(get, c);
  auto wav_file = [&](const std::string& name, std::optional<std::filesystem::path>& out) {
    if (auto v = get(name)) {
      if (!std::filesystem::is_regular_file(*v)) throw config_error(name + ": no such file '" + *v + "'");
      out = *v;
    }
  };
  wav_file("LOCAL_GREETING_WAV", c.local_greeting_wav);
  if (auto v = get("LOCAL_AGENT")) {
    if (*v != "voicemail" && *v != "echo") throw config_error("LOCAL_AGENT: expected voicemail or echo, got '" + *v + "'");
    c.local_agent = *v == "echo" ? local_agent_kind::echo : local_agent_kind::voicemail;
  }
  if (auto v = get("LOCAL_GREETING_TEXT")) c.local_greeting_text = *v;
  wav_file("FALLBACK_PROMPT_WAV", c.fallback_prompt_wav);
  if (auto v = get("FALLBACK_TEXT")) c.fallback_text = *v;
  if (auto v = get("FALLBACK_LANGUAGE")) c.fallback_language = *v;
  if (auto v = get("VOICEMAIL_MAX_S"))
    c.voicemail_max_length = std::chrono::seconds(parse_int<long long>("VOICEMAIL_MAX_S", *v, 1, 3600));
  if (auto v = get("VOICEMAIL_SILENCE_MS"))
    c.voicemail_silence = std::chrono::milliseconds(parse_int<long long>("VOICEMAIL_SILENCE_MS", *v, 0, 600'000));
  wav_file("VOICEMAIL_MESSAGE_WAV", c.voicemail_message_wav);
  if (auto v = get("VOICEMAIL_MESSAGE_TEXT")) c.voicemail_message_text = *v;
  if (auto v = get("RING_TIMEOUT_S")) c.ring_timeout = std::chrono::seconds(parse_int<long long>("RING_TIMEOUT_S", *v, 5, 600));
  if (auto v = get("CAMPAIGN_STATUS_CHECK_S"))
    c.campaign_status_check = std::chrono::seconds(parse_int<long long>("CAMPAIGN_STATUS_CHECK_S", *v, 1, 3600));
  flag("AMD_HOLD_GREETING", c.amd_hold_greeting);
  millis("AMD_TIMEOUT_MS", c.amd_timeout);
  if (auto v = get("STATE_DIR")) c.state_dir = *v;
  else if (auto d = get("STATE_DIRECTORY")) c.state_dir = d->substr(0, d->find(':'));  // systemd: the first one
  c.state_dir = std::filesystem::absolute(c.state_dir);  // records keep file paths: they must not depend on the cwd
  flag("RECORD_CALLS", c.record_calls);
  if (auto v = get("DATABASE_URL")) {
    if (!v->starts_with("postgres://") && !v->starts_with("postgresql://"))
      throw config_error("DATABASE_URL: expected postgres://user@host/db (unset: SQLite in the state directory)");
    c.database_url = *v;
  }
  if (auto v = get("ADMIN_TOKEN")) {
    if (v->size() < 16) throw config_error("ADMIN_TOKEN: must be at least 16 characters");
    c.admin_token = *v;
  }
  if (auto v = get("INSTANCE_ID")) {
    if (!is_instance_id(*v)) throw config_error("INSTANCE_ID: expected 1-32 of a-z, 0-9 and '-', got '" + *v + "'");
    c.instance_id = *v;
    c.instance_id_configured = true;
  } else {
    c.instance_id = "gw-" + util::random_hex(4);
  }
  if (auto v = get("MAX_RECONNECTS")) c.max_reconnects = parse_int<unsigned>("MAX_RECONNECTS", *v, 0, 20);
  if (auto v = get("ROUTES_FILE")) c.routes_file = *v;
  if (auto v = get("TWILIO_ACCOUNT_SID")) c.twilio_account_sid = *v;
  if (auto v = get("TWILIO_API_BASE")) {
    auto parsed = boost::urls::parse_absolute_uri(*v);
    if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty())
      throw config_error("TWILIO_API_BASE: expected https://host[:port], got '" + *v + "'");
    c.twilio_api_base = *v;
  }
  if (auto v = get("OPERATOR_NUMBER")) c.operator_number = *v;
  const auto keypad_key = [&](const std::string& name) -> std::optional<char> {
    const auto v = get(name);
    if (!v) return std::nullopt;
    if (v->size() != 1 || std::string_view("0123456789*#").find((*v)[0]) == std::string_view::npos)
      throw config_error(name + ": expected one keypad key (0-9, * or #), got '" + *v + "'");
    return (*v)[0];
  };
  if (auto key = keypad_key("OPERATOR_KEY")) c.operator_key = *key;
  if (auto key = keypad_key("OPT_OUT_KEY")) c.opt_out_key = *key;
  return c;
}

}  // namespace voicebridge::app
