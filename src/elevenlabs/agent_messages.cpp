#include "voicebridge/elevenlabs/agent_messages.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "util/json_fields.hpp"
#include "util/simple_json.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::elevenlabs {
namespace json = boost::json;
namespace {

using util::fail;
using util::integer_field;
using util::object_field;
using util::string_field;

// Most server events carry their fields in an object named after the type ("ping" -> "ping_event").
util::result<const json::object*> event_body(const json::object& o, std::string_view name) {
  return object_field(o, name, true);
}

util::result<server_message> parse_metadata(const json::object& o) {
  VB_TRY(body, event_body(o, "conversation_initiation_metadata_event"));
  VB_TRY(id, string_field(*body, "conversation_id", false));
  VB_TRY(out_name, string_field(*body, "agent_output_audio_format", false));
  VB_TRY(in_name, string_field(*body, "user_input_audio_format", false));
  // The platform default when a field is missing is pcm_16000.
  auto out = parse_audio_format(out_name.empty() ? "pcm_16000" : out_name);
  auto in = parse_audio_format(in_name.empty() ? "pcm_16000" : in_name);
  if (!out) return fail("unsupported agent_output_audio_format \"" + out_name + "\"");
  if (!in) return fail("unsupported user_input_audio_format \"" + in_name + "\"");
  return initiation_metadata{std::move(id), *out, *in};
}

util::result<server_message> parse_audio(const json::object& o) {
  VB_TRY(body, event_body(o, "audio_event"));
  VB_TRY(audio, string_field(*body, "audio_base_64", true));
  VB_TRY(id, integer_field(*body, "event_id", false));
  if (!util::is_valid_base64(audio)) return fail("audio_event.audio_base_64 is not valid base64");
  return audio_event{std::move(audio), id};
}

util::result<server_message> parse_error(const json::object& o) {
  agent_error e;
  VB_TRY(body, object_field(o, "error_event", false));
  if (body) {
    VB_TRY(type, string_field(*body, "error_type", false));
    VB_TRY(message, string_field(*body, "message", false));
    e.error_type = std::move(type);
    e.message = std::move(message);
    if (const json::value* code = body->if_contains("code"); code && code->is_int64())
      e.code = static_cast<int>(code->get_int64());
    return e;
  }
  // Flat form seen on quota errors: "received 1002 (protocol error) This request exceeds your quota limit."
  VB_TRY(message, string_field(o, "message", false));
  if (message.starts_with("received ")) {
    int code = 0;
    auto [end, ec] = std::from_chars(message.data() + 9, message.data() + message.size(), code);
    if (ec == std::errc()) e.code = code;
  }
  e.message = std::move(message);
  return e;
}

}  // namespace

std::optional<audio_format> parse_audio_format(std::string_view name) {
  audio_format f;
  std::string_view rate;
  if (name.starts_with("ulaw_")) {
    f.encoding = audio_format::kind::ulaw;
    rate = name.substr(5);
  } else if (name.starts_with("pcm_")) {
    f.encoding = audio_format::kind::pcm;
    rate = name.substr(4);
  } else {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(rate.data(), rate.data() + rate.size(), f.sample_rate);
  if (ec != std::errc() || end != rate.data() + rate.size() || f.sample_rate < 8000 || f.sample_rate > 48000)
    return std::nullopt;
  if (f.encoding == audio_format::kind::ulaw && f.sample_rate != 8000) return std::nullopt;
  return f;
}

std::optional<audio_event> parse_audio_fast(std::string_view text) {
  const auto view = read_audio_in_place(text);
  if (!view) return std::nullopt;
  return audio_event{std::string(view->audio_base64), view->event_id};
}

std::optional<audio_view> read_audio_in_place(std::string_view text) {
  using kind = util::simple_json_object::kind;
  util::simple_json_object o;
  if (!o.parse(text)) return std::nullopt;
  const auto* type = o.find("type");
  const auto* body = o.find("audio_event");
  const auto* audio = o.find("audio_event", "audio_base_64");
  const auto* id = o.find("audio_event", "event_id");
  if (!type || type->type != kind::string || type->value != "audio" || !body || body->type != kind::object ||
      !audio || audio->type != kind::string || !util::is_valid_base64(audio->value) || (id && id->type != kind::integer))
    return std::nullopt;
  audio_view a{audio->value, 0};
  if (id) a.event_id = static_cast<std::int64_t>(*util::simple_counter(*id));  // at most 18 digits
  return a;
}

util::result<server_message> parse_server_message(std::string_view text) {
  if (auto audio = parse_audio_fast(text)) return std::move(*audio);
  return parse_server_message_dom(text);
}

util::result<server_message> parse_server_message_dom(std::string_view text) {
  util::json_scratch scratch;
  VB_TRY(root, util::parse_json_object(text, scratch.storage()));
  const auto& o = root.get_object();
  VB_TRY(type, string_field(o, "type", true));
  if (type == "audio") return parse_audio(o);
  if (type == "ping") {
    VB_TRY(body, event_body(o, "ping_event"));
    VB_TRY(id, integer_field(*body, "event_id", true));
    ping_event p{id, std::nullopt};
    if (const json::value* ms = body->if_contains("ping_ms"); ms && ms->is_int64()) p.ping_ms = ms->get_int64();
    return p;
  }
  if (type == "interruption") {
    VB_TRY(body, event_body(o, "interruption_event"));
    VB_TRY(id, integer_field(*body, "event_id", true));
    return interruption_event{id};
  }
  if (type == "conversation_initiation_metadata") return parse_metadata(o);
  if (type == "user_transcript") {
    VB_TRY(body, event_body(o, "user_transcription_event"));
    VB_TRY(text_, string_field(*body, "user_transcript", false));
    VB_TRY(id, integer_field(*body, "event_id", false));
    return user_transcript{std::move(text_), id};
  }
  if (type == "agent_response") {
    VB_TRY(body, event_body(o, "agent_response_event"));
    VB_TRY(text_, string_field(*body, "agent_response", false));
    VB_TRY(id, integer_field(*body, "event_id", false));
    return agent_response{std::move(text_), id};
  }
  if (type == "agent_response_correction") {
    VB_TRY(body, event_body(o, "agent_response_correction_event"));
    VB_TRY(original, string_field(*body, "original_agent_response", false));
    VB_TRY(corrected, string_field(*body, "corrected_agent_response", false));
    VB_TRY(id, integer_field(*body, "event_id", false));
    return agent_response_correction{std::move(original), std::move(corrected), id};
  }
  if (type == "client_tool_call") {
    VB_TRY(body, event_body(o, "client_tool_call"));
    VB_TRY(name, string_field(*body, "tool_name", true));
    VB_TRY(id, string_field(*body, "tool_call_id", true));
    VB_TRY(params, object_field(*body, "parameters", false));
    VB_TRY(event_id, integer_field(*body, "event_id", false));
    return client_tool_call{std::move(name), std::move(id), params ? json::serialize(*params) : "{}", event_id};
  }
  if (type == "error") return parse_error(o);
  return unknown_event{std::move(type)};
}

std::string serialize_initiation(const initiation_client_data& data) {
  json::object vars;
  for (const auto& [name, value] : data.dynamic_variables) vars[name] = value;
  json::object o{{"type", "conversation_initiation_client_data"}, {"dynamic_variables", std::move(vars)}};
  if (!data.config_override_json.empty()) o["conversation_config_override"] = json::parse(data.config_override_json);
  return json::serialize(o);
}

namespace {

// `over` into `base`, recursively for objects; any other value replaces.
void merge_into(json::object& base, const json::object& over) {
  for (const auto& [key, value] : over) {
    auto* mine = base.if_contains(key);
    if (mine && mine->is_object() && value.is_object()) merge_into(mine->get_object(), value.get_object());
    else base[key] = value;
  }
}

}  // namespace

void merge_precall(initiation_client_data& data, const std::vector<std::pair<std::string, std::string>>& variables,
                   std::string_view config_override_json) {
  static constexpr std::string_view facts[]{"caller_number", "called_number", "call_sid", "direction"};
  for (const auto& variable : variables) {
    const std::string& name = variable.first;  // not a structured binding: clang 14 cannot capture one
    if (std::find(std::begin(facts), std::end(facts), name) != std::end(facts)) continue;
    auto it = std::find_if(data.dynamic_variables.begin(), data.dynamic_variables.end(),
                           [&](const auto& v) { return v.first == name; });
    if (it != data.dynamic_variables.end()) it->second = variable.second;
    else data.dynamic_variables.emplace_back(name, variable.second);
  }
  if (config_override_json.empty()) return;
  json::error_code ec;
  auto over = json::parse(config_override_json, ec);
  if (ec || !over.is_object()) return;  // checked before it came here (server/precall.cpp)
  json::value base = data.config_override_json.empty() ? json::value(json::object()) : json::parse(data.config_override_json, ec);
  if (ec || !base.is_object()) base = json::object();
  merge_into(base.get_object(), over.get_object());
  data.config_override_json = json::serialize(base);
}

std::string serialize_user_audio(std::string_view audio_base64) {
  std::string out;
  serialize_user_audio(out, audio_base64);
  return out;
}

void serialize_user_audio(std::string& out, std::string_view audio_base64) {
  // Hot path; base64 needs no JSON escaping.
  out.clear();
  out.reserve(audio_base64.size() + 24);
  out.append(R"({"user_audio_chunk":")").append(audio_base64).append("\"}");
}

std::string serialize_pong(std::int64_t event_id) {
  return json::serialize(json::object{{"type", "pong"}, {"event_id", event_id}});
}

std::string serialize_contextual_update(std::string_view text) {
  return json::serialize(json::object{{"type", "contextual_update"}, {"text", text}});
}

std::string serialize_user_message(std::string_view text) {
  return json::serialize(json::object{{"type", "user_message"}, {"text", text}});
}

std::string serialize_tool_result(std::string_view tool_call_id, std::string_view result, bool is_error) {
  return json::serialize(json::object{
      {"type", "client_tool_result"}, {"tool_call_id", tool_call_id}, {"result", result}, {"is_error", is_error}});
}

}  // namespace voicebridge::elevenlabs
