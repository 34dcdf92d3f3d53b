#include "voicebridge/twilio/webhook.hpp"

#include "util/utf8.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/signature.hpp"
#include "voicebridge/twilio/stream_token.hpp"
#include "voicebridge/twilio/twiml.hpp"

namespace voicebridge::twilio {
namespace {

using app::log;
using app::log_level;

http_answer text_answer(unsigned status, std::string body) { return {status, "text/plain", std::move(body)}; }

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

bool is_form(std::string_view content_type) {
  return content_type.starts_with("application/x-www-form-urlencoded");
}

}  // namespace

std::variant<form_params, http_answer> authenticate_request(const twilio_request& request, const app::config& config) {
  const std::string path(path_of(request.target));
  // The original service's behaviour: a gateway without its secrets cannot serve calls, and says so.
  for (auto [name, value] : {std::pair{"TWILIO_AUTH_TOKEN", &config.twilio_auth_token},
                             std::pair{"TWILIO_STREAM_TOKEN", &config.twilio_stream_token}}) {
    if (value->empty()) {
      log(log_level::error, "twilio request refused: configuration incomplete",
          {{"path", path}, {"missing", name}});
      return text_answer(500, std::string(name) + " is not configured\n");
    }
  }
  const std::string url = config.url_for(request.target);
  form_params params;
  bool valid = false;
  if (is_form(request.content_type)) {
    auto parsed = parse_form(request.body);
    if (!parsed) {
      log(log_level::warn, "twilio request refused: malformed form body", {{"path", path}, {"reason", parsed.error().message}});
      return text_answer(400, "malformed form body\n");
    }
    params = std::move(*parsed);
    valid = validate_signature(config.twilio_auth_token, request.signature, url, params);
  } else if (request.content_type.starts_with("application/json")) {
    valid = validate_signature_with_body(config.twilio_auth_token, request.signature, url, request.body);
  } else if (request.body.empty()) {
    valid = validate_signature(config.twilio_auth_token, request.signature, url, params);
  } else {
    log(log_level::warn, "twilio request refused: unsupported content type", {{"path", path}});
    return text_answer(415, "expected application/x-www-form-urlencoded\n");
  }
  if (!valid) {
    log(log_level::warn, "twilio request refused: signature invalid",
        {{"path", path}, {"signature_present", request.signature.empty() ? "false" : "true"}});
    return text_answer(403, "invalid Twilio signature\n");
  }
  return params;
}

std::vector<std::pair<std::string, std::string>> call_parameters(const form_params& params) {
  std::vector<std::pair<std::string, std::string>> parameters{{"call_sid", std::string(params.get_or("CallSid", ""))}};
  for (auto [param, name] : {std::pair{"From", "from"}, std::pair{"To", "to"}}) {
    const auto value = params.get_or(param, "");
    if (!value.empty() && std::string_view(name).size() + value.size() <= max_parameter_chars)
      parameters.emplace_back(name, value);
  }
  return parameters;
}

http_answer answer_voice_webhook(const form_params& params, const app::config& config, std::string_view route,
                                 std::chrono::system_clock::time_point now,
                                 std::vector<std::pair<std::string, std::string>> extra,
                                 std::optional<unsigned> call_context) {
  const std::string call_sid(params.get_or("CallSid", ""));
  if (!is_valid_sid(call_sid)) {
    log(log_level::warn, "voice webhook refused: missing or malformed CallSid");
    return text_answer(400, "missing or malformed CallSid\n");
  }
  // Every value the TwiML carries reads back exactly, or the webhook is refused: XML cannot carry a control
  // character, a NUL or bytes that are not UTF-8, and Twilio would fail the call on an ill-formed document.
  auto parameters = call_parameters(params);
  for (auto& parameter : extra) parameters.push_back(std::move(parameter));
  for (const auto& [name, value] : parameters) {
    if (!util::is_xml_text(value)) {
      log(log_level::warn, "voice webhook refused: a parameter holds characters TwiML cannot carry",
          {{"call_sid", call_sid}, {"parameter", name}});
      return text_answer(400, "parameter '" + name + "' holds a control character or bytes that are not UTF-8\n");
    }
  }
  auto answer = answer_connect_stream(call_sid, route, std::move(parameters), config.stream_url(call_context), config, now);
  log(log_level::info, "voice webhook accepted",
      {{"call_sid", call_sid}, {"route", route}, {"from", params.get_or("From", "")}, {"to", params.get_or("To", "")},
       {"direction", params.get_or("Direction", "")}, {"call_status", params.get_or("CallStatus", "")}});
  return answer;
}

http_answer answer_connect_stream(std::string_view call_sid, std::string_view route,
                                  std::vector<std::pair<std::string, std::string>> parameters, std::string stream_url,
                                  const app::config& config, std::chrono::system_clock::time_point now) {
  connect_stream_twiml twiml;
  twiml.stream_url = std::move(stream_url);
  twiml.connect_action = config.url_for(app::stream_ended_path);
  twiml.parameters.emplace_back(stream_token_parameter,
                                mint_stream_token(config.twilio_stream_token, call_sid, route, now + config.stream_token_ttl));
  twiml.parameters.emplace_back(route_parameter, route);
  for (auto& parameter : parameters) twiml.parameters.push_back(std::move(parameter));
  return {200, "text/xml", render_connect_stream(twiml)};
}

http_answer answer_stream_ended(bool gateway_served_stream, const app::config& config) {
  if (gateway_served_stream) return {200, "text/xml", render_hangup()};
  return answer_unavailable(config);
}

http_answer answer_unavailable(const app::config& config) {
  return {200, "text/xml", render_say_hangup(config.unavailable_message, config.say_language)};
}

http_answer answer_busy(const app::config& config) {
  return {200, "text/xml", render_say_hangup(config.busy_message, config.say_language)};
}

}  // namespace voicebridge::twilio
