// The decisions of Twilio's voice webhook and call status callback, over a request already authenticated:
// the route for the called number and the hour, the call's slot under MAX_CALLS and the route's share, the
// busy and unavailable answers with their records, and the pre-warm. The HTTP session (gateway.cpp) only
// authenticates and writes what these answer.
#pragma once
#include "call/admission.hpp"
#include "call/call_registry.hpp"
#include "records/record_writer.hpp"
#include "server/routing.hpp"
#include "voicebridge/app/config.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/webhook.hpp"

namespace voicebridge::server {

struct twilio_webhooks {
  const app::config& config;
  routing& routes;
  call::call_registry& active;
  call::admission& admitted;
  records::record_writer& records;

  // <Connect><Stream> for the route chosen, busy at a limit, or the apology for a number no route takes.
  twilio::http_answer answer_voice(const twilio::form_params& params);
  // The call's final status and duration complete its record.
  twilio::http_answer answer_status(const twilio::form_params& params);
};

}  // namespace voicebridge::server
