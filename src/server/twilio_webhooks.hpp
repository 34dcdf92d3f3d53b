// The decisions of Twilio's voice webhook and call status callback, over a request already authenticated:
// the route for the called number and the hour, the call's slot under MAX_CALLS and the route's share, the
// busy and unavailable answers with their records, and the pre-warm. The HTTP session (gateway.cpp) only
// authenticates and writes what these answer.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "call/admission.hpp"
#include "call/amd_results.hpp"
#include "call/call_registry.hpp"
#include "records/record_writer.hpp"
#include "server/precall.hpp"
#include "server/routing.hpp"
#include "server/stream_end.hpp"
#include "voicebridge/app/config.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/webhook.hpp"

namespace voicebridge::net {
class call_contexts;
}

namespace voicebridge::server {

// Twilio's final status for a call a campaign placed (its status callback's URL names the campaign and row).
struct campaign_call_end {
  std::string campaign_id;
  std::int64_t row_no = 0;
  std::string call_sid;
  std::string outcome;  // busy, no_answer, failed, canceled, or "completed" for a call that connected
};

class shared_streams;

struct twilio_webhooks {
  const app::config& config;
  routing& routes;
  call::call_registry& active;
  call::admission& admitted;
  records::record_writer& records;
  call::amd_results& machine_verdicts;
  net::call_contexts& call_contexts;  // the io thread of each pre-warmed conversation, named in its stream's URL
  std::function<void(campaign_call_end)> on_campaign_call_end;  // set by the gateway: its campaign runner
  // The pre-call webhook (server/precall.hpp): its answers, and the gateway's way to send one beside the call.
  call::precall_answers* precalls = nullptr;
  std::function<void(precall_request, signed_post)> ask_precall;
  std::shared_ptr<boost::asio::ssl::context> webhook_tls;
  const shared_streams* shared = nullptr;  // several instances: their live streams count in the limits

  // <Connect><Stream> for the route chosen, busy at a limit, or the apology for a number no route takes.
  twilio::http_answer answer_voice(const twilio::form_params& params);
  // An outbound call the callee answered (server/outbound_twiml.cpp): the same, for the route it was placed
  // for, with `direction=outbound` and the request's variables in the stream's <Parameter>s.
  twilio::http_answer answer_outbound(const twilio::form_params& params, std::string_view route_name,
                                      const std::vector<std::pair<std::string, std::string>>& variables);
  // The call's final status and duration complete its record; an outbound call that never connected gets
  // its outcome from the status.
  // `target`: the callback's URL path and query (a campaign's call names its campaign and row there).
  twilio::http_answer answer_status(const twilio::form_params& params, std::string_view target = {});
  // Twilio's asynchronous answering-machine verdict (AsyncAmdStatusCallback): handed to the call it is for.
  twilio::http_answer answer_amd(const twilio::form_params& params);
  // A call whose stream was lost gets a fresh stream to this instance (server/shared_streams.hpp): its route's
  // agent gets ready meanwhile, as at the voice webhook, told the same parameters.
  void prewarm_fresh_stream(const std::string& call_sid, const fresh_stream& stream);

 private:
  // Admission under MAX_CALLS and the route's share, the TwiML, the held route and the pre-warm.
  twilio::http_answer connect(const twilio::form_params& params, const route_choice& choice,
                              std::vector<std::pair<std::string, std::string>> extra, bool outbound);
  // Asks the route's pre-call webhook, if it has one, before the pre-warm starts waiting for it.
  void start_precall(const twilio::form_params& params, const call::call_route& route,
                     const std::vector<std::pair<std::string, std::string>>& told, bool outbound);
};

}  // namespace voicebridge::server
