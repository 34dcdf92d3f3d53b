#include "twilio/call_creation.hpp"

#include <boost/json.hpp>

#include "util/json_fields.hpp"
#include "voicebridge/twilio/media_messages.hpp"

namespace voicebridge::twilio {

form_params call_creation_form(const call_creation& call) {
  form_params form;
  form.add("To", call.to);
  form.add("From", call.from);
  form.add("Url", call.twiml_url);
  form.add("Method", "POST");
  form.add("StatusCallback", call.status_callback);
  form.add("StatusCallbackMethod", "POST");
  for (const char* event : {"initiated", "ringing", "answered", "completed"}) form.add("StatusCallbackEvent", event);
  form.add("Timeout", std::to_string(call.ring_timeout.count()));
  if (call.machine_detection) {
    // Asynchronous AMD: the call is connected at once (the agent's greeting held until the result) and the
    // result is posted to AsyncAmdStatusCallback; DetectMessageEnd waits for a machine's beep.
    form.add("MachineDetection", "DetectMessageEnd");
    form.add("AsyncAmd", "true");
    form.add("AsyncAmdStatusCallback", call.amd_callback);
    form.add("AsyncAmdStatusCallbackMethod", "POST");
  }
  return form;
}

created_call read_call_creation_answer(unsigned status, std::string_view body) {
  created_call out;
  out.status = status;
  auto parsed = util::parse_json_object(body);
  if (!parsed) {
    out.message = "Twilio answered HTTP " + std::to_string(status) + " without a JSON resource";
    return out;
  }
  const auto& o = parsed->get_object();
  if (status == 201) {
    auto sid = util::string_field(o, "sid", true);
    if (sid && is_valid_sid(*sid)) out.call_sid = std::move(*sid);
    else out.message = "Twilio answered 201 without a call SID";
    return out;
  }
  if (const auto* code = o.if_contains("code"); code && code->is_int64()) out.twilio_code = static_cast<long>(code->get_int64());
  auto message = util::string_field(o, "message", false);
  out.message = message && !message->empty() ? message->substr(0, 300) : "HTTP " + std::to_string(status);
  return out;
}

fetched_call read_call_fetch_answer(unsigned status, std::string_view body) {
  fetched_call out;
  out.status = status;
  auto parsed = util::parse_json_object(body);
  if (status != 200 || !parsed) {
    out.message = "Twilio answered HTTP " + std::to_string(status) + (parsed ? "" : " without a JSON resource");
    return out;
  }
  const auto& o = parsed->get_object();
  auto call_status = util::string_field(o, "status", true);
  if (!call_status || call_status->empty() || call_status->size() > 32) {
    out.message = "Twilio's call resource has no status";
    return out;
  }
  out.call_status = std::move(*call_status);
  // `duration` is a string of seconds, or null while the call goes on.
  if (const auto* d = o.if_contains("duration"); d && d->is_string() && d->get_string().size() <= 10)
    out.duration_s = std::string(d->get_string());
  return out;
}

}  // namespace voicebridge::twilio
