// The HTTP endpoints Twilio calls: authentication of a signed request, the voice webhook's TwiML answer,
// and the <Connect action> answer. Plain functions over request data, tested without sockets.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "voicebridge/app/config.hpp"
#include "voicebridge/twilio/form.hpp"

namespace voicebridge::twilio {

struct http_answer {
  unsigned status = 200;
  std::string content_type = "text/xml";
  std::string body;
};

struct twilio_request {
  std::string_view target;  // path and query as received
  std::string_view content_type;
  std::string_view signature;  // X-Twilio-Signature
  std::string_view body;
};

// The request's parameters if it is signed by Twilio, else the error answer (400/403/415/500) to send.
std::variant<form_params, http_answer> authenticate_request(const twilio_request& request, const app::config& config);

// The call's non-secret <Parameter>s (call_sid, from, to; each within Twilio's size limit): what the stream's
// `start` will carry besides the stream token, and what a pre-warmed agent is told before it.
std::vector<std::pair<std::string, std::string>> call_parameters(const form_params& params);

// TwiML that connects the call to our Media Stream, with the route the gateway chose for it and a per-call
// stream token (bound to the call and the route) in <Parameter>s, then `extra` ones (an outbound call's
// direction and variables: each within Twilio's size limit, checked by whoever made them). `call_context`: the
// io thread the stream should run on (config::stream_url).
http_answer answer_voice_webhook(const form_params& params, const app::config& config, std::string_view route,
                                 std::chrono::system_clock::time_point now,
                                 std::vector<std::pair<std::string, std::string>> extra = {},
                                 std::optional<unsigned> call_context = std::nullopt);

// <Connect action><Stream url="stream_url"> (this instance's, or any instance's), with a fresh stream token
// for (call, route) and the route in <Parameter>s, then `parameters` (each already checked: XML text within
// Twilio's size limit). The voice webhook's answer, and a fresh stream for a call whose stream was lost.
http_answer answer_connect_stream(std::string_view call_sid, std::string_view route,
                                  std::vector<std::pair<std::string, std::string>> parameters, std::string stream_url,
                                  const app::config& config, std::chrono::system_clock::time_point now);

// What the caller hears when <Connect> ends: nothing more if the gateway served the stream (it said
// goodbye or played the fallback itself), else the apology.
http_answer answer_stream_ended(bool gateway_served_stream, const app::config& config);

// The apology (UNAVAILABLE_MESSAGE) and a hang-up: a number no route takes, a stream that failed to start.
http_answer answer_unavailable(const app::config& config);

// Busy line (concurrency limit, draining).
http_answer answer_busy(const app::config& config);

}  // namespace voicebridge::twilio
