#include "server/twilio_webhooks.hpp"

#include <charconv>

#include "call/answering_machine.hpp"
#include "net/call_contexts.hpp"
#include "server/dynamic_variables.hpp"
#include "server/shared_streams.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"

namespace voicebridge::server {
using app::log;
using app::log_level;
using app::metrics;

twilio::http_answer twilio_webhooks::answer_voice(const twilio::form_params& params) {
  const std::string call_sid(params.get_or("CallSid", ""));
  if (!twilio::is_valid_sid(call_sid)) return twilio::answer_voice_webhook(params, config, "", std::chrono::system_clock::now());
  auto choice = routes.choose(params.get_or("To", ""), std::chrono::system_clock::now());
  if (!choice) {
    metrics().unrouted_calls.inc();
    log(log_level::warn, "voice webhook: no route takes the called number, answering unavailable",
        {{"call_sid", call_sid}, {"to", params.get_or("To", "")}});
    return twilio::answer_unavailable(config);
  }
  return connect(params, *choice, {}, false);
}

twilio::http_answer twilio_webhooks::answer_outbound(const twilio::form_params& params, std::string_view route_name,
                                                     const std::vector<std::pair<std::string, std::string>>& variables) {
  const std::string call_sid(params.get_or("CallSid", ""));
  if (!twilio::is_valid_sid(call_sid)) return twilio::answer_voice_webhook(params, config, "", std::chrono::system_clock::now());
  auto choice = routes.choose_named(route_name);
  if (!choice) {
    // A reload removed the route between the dialling and the answer: the callee hears the apology.
    metrics().unrouted_calls.inc();
    log(log_level::warn, "outbound TwiML: the call's route is gone, answering unavailable",
        {{"call_sid", call_sid}, {"route", route_name}});
    return twilio::answer_unavailable(config);
  }
  std::vector<std::pair<std::string, std::string>> extra{{"direction", "outbound"}};
  extra.insert(extra.end(), variables.begin(), variables.end());
  return connect(params, *choice, std::move(extra), true);
}

twilio::http_answer twilio_webhooks::connect(const twilio::form_params& params, const route_choice& choice,
                                             std::vector<std::pair<std::string, std::string>> extra, bool outbound) {
  const std::string call_sid(params.get_or("CallSid", ""));
  const auto now = std::chrono::system_clock::now();
  const auto& route = *choice.route;
  // With several instances, their live streams count too (as of the last heartbeat: server/shared_streams.hpp).
  const std::size_t elsewhere = shared ? shared->streams_elsewhere() : 0;
  const std::size_t route_elsewhere = shared ? shared->streams_elsewhere(route.name) : 0;
  const call::room_request room{active.size() + elsewhere, config.max_calls, route.name,
                                active.size(route.name) + route_elsewhere, route.max_calls};
  if (const auto verdict = admitted.try_admit(call_sid, room); verdict != call::admission::verdict::admitted) {
    const bool process_limit = verdict == call::admission::verdict::at_max_calls;
    metrics().limit_hits.inc(process_limit ? "max_calls" : "route_max_calls");
    metrics().calls.inc(records::outcome::busy);
    metrics().route_calls.inc(route.name, records::outcome::busy);
    log(log_level::warn, process_limit ? "voice webhook: at MAX_CALLS, answering busy" : "voice webhook: at the route's max_calls, answering busy",
        {{"call_sid", call_sid}, {"route", route.name}, {"max_calls", process_limit ? config.max_calls : *route.max_calls}});
    records::call_record busy;
    busy.call_sid = call_sid;
    busy.from = params.get_or("From", "");
    busy.to = params.get_or("To", "");
    busy.route = route.name;
    busy.direction = outbound ? "outbound" : "inbound";
    busy.started = busy.ended = now;
    busy.outcome = records::outcome::busy;
    records.submit(std::move(busy));
    return twilio::answer_busy(config);
  }
  // What the agent is told before the stream's `start` (the pre-warm) is what the `start` will carry.
  auto told = twilio::call_parameters(params);
  told.insert(told.end(), extra.begin(), extra.end());
  // While Twilio sets up the call's media and opens the stream, the agent conversation gets ready, on the io
  // thread that the stream's URL names: the call then runs on that one thread (net/call_contexts.hpp).
  const bool prewarm = !route.voicemail_only && route.settings.prewarm;
  const auto context = prewarm ? call_contexts.next_to_name() : std::nullopt;
  auto answer = twilio::answer_voice_webhook(params, config, choice.grant, now, std::move(extra), context);
  if (answer.status != 200) return answer;
  routes.hold_for_stream(call_sid, choice.route);
  start_precall(params, route, told, outbound);
  if (prewarm) choice.agents->prewarm(call_sid, std::move(told), call_contexts.at(context.value_or(0)).get_executor());
  return answer;
}

void twilio_webhooks::prewarm_fresh_stream(const std::string& call_sid, const fresh_stream& stream) {
  auto choice = routes.choose_granted(stream.grant);
  if (!choice || choice->route->voicemail_only || !choice->route->settings.prewarm) return;
  choice->agents->prewarm(call_sid, stream.parameters, call_contexts.at(stream.call_context.value_or(0)).get_executor());
}

void twilio_webhooks::start_precall(const twilio::form_params& params, const call::call_route& route,
                                    const std::vector<std::pair<std::string, std::string>>& told, bool outbound) {
  const auto& s = route.settings;
  // Only an ElevenLabs agent takes the answer (its initiation data); routing.cpp warns of the others at load.
  if (s.precall_webhook_url.empty() || s.mode() != app::agent_mode::elevenlabs_agent || route.voicemail_only ||
      !precalls || !ask_precall)
    return;
  precall_request request;
  request.call_sid = params.get_or("CallSid", "");
  request.direction = outbound ? "outbound" : "inbound";
  request.from = params.get_or("From", "");
  request.to = params.get_or("To", "");
  request.route = route.name;
  // What the agent is told beyond the call's facts: an outbound call's request (and campaign) variables.
  for (const auto& [name, value] : told) {
    if (name == "campaign") request.campaign = value;
    else if (outbound && !is_gateway_variable(name)) request.row_variables.emplace_back(name, value);
  }
  signed_post post;
  post.url = s.precall_webhook_url;
  post.secret = s.webhook_secret;
  post.timeout = s.precall_timeout;
  post.tls = webhook_tls;
  if (!precalls->expect(request.call_sid, std::chrono::steady_clock::now() + s.precall_timeout)) return;  // asked already
  ask_precall(std::move(request), std::move(post));
}

twilio::http_answer twilio_webhooks::answer_status(const twilio::form_params& params, std::string_view target) {
  const std::string call_sid(params.get_or("CallSid", ""));
  if (!twilio::is_valid_sid(call_sid)) return {400, "text/plain", "missing or malformed CallSid\n"};
  records::status_update update{call_sid, std::string(params.get_or("CallStatus", "")), std::nullopt, std::nullopt};
  if (update.status.size() > 32) update.status.resize(32);
  const std::string duration(params.get_or("CallDuration", ""));
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(duration.data(), duration.data() + duration.size(), seconds);
  if (!duration.empty() && ec == std::errc() && end == duration.data() + duration.size()) update.duration_s = seconds;
  // A call that never reached a stream ends with this status alone (Twilio REST API, "Call resource",
  // "Call Status values"): it is the call's outcome, unless its stream recorded one.
  static constexpr std::pair<std::string_view, const char*> unconnected[]{{"busy", records::outcome::busy},
                                                                           {"no-answer", records::outcome::no_answer},
                                                                           {"failed", records::outcome::failed},
                                                                           {"canceled", records::outcome::canceled}};
  for (const auto& [status, outcome] : unconnected)
    if (update.status == status) update.outcome = outcome;
  const bool outbound = params.get_or("Direction", "").starts_with("outbound");
  if (outbound && (update.outcome || update.status == "completed"))
    metrics().outbound_calls.inc(update.outcome ? *update.outcome : std::string("completed"));
  if (update.outcome) metrics().calls.inc(*update.outcome);  // it ended here: no stream will count it
  log(log_level::info, "call status", {{"call_sid", call_sid}, {"status", update.status}, {"duration_s", duration},
                                       {"direction", outbound ? "outbound" : "inbound"}});
  const bool final_status = records::is_final_call_status(update.status);
  const auto q = target.find('?');
  if (final_status && q != std::string_view::npos && on_campaign_call_end) {
    // The query is Twilio-signed with the rest of the URL: it names the campaign row this call was for.
    const auto query = twilio::parse_form(target.substr(q + 1));
    const std::string campaign(query ? query->get_or("campaign", "") : "");
    const std::string row(query ? query->get_or("row", "") : "");
    std::int64_t row_no = 0;
    const auto [row_end, row_ec] = std::from_chars(row.data(), row.data() + row.size(), row_no);
    if (!campaign.empty() && row_ec == std::errc() && row_end == row.data() + row.size())
      on_campaign_call_end({campaign, row_no, call_sid, update.outcome ? *update.outcome : std::string("completed")});
  }
  records.submit(std::move(update));
  return {204, "text/plain", ""};
}

twilio::http_answer twilio_webhooks::answer_amd(const twilio::form_params& params) {
  const std::string call_sid(params.get_or("CallSid", ""));
  if (!twilio::is_valid_sid(call_sid)) return {400, "text/plain", "missing or malformed CallSid\n"};
  const std::string answered_by(params.get_or("AnsweredBy", ""));
  if (!call::parse_answered_by(answered_by)) {
    log(log_level::warn, "AMD webhook refused: unknown AnsweredBy", {{"call_sid", call_sid}});
    return {400, "text/plain", "AnsweredBy: expected human, machine_start, machine_end_beep, machine_end_silence, "
                               "machine_end_other, fax or unknown\n"};
  }
  metrics().amd_results.inc(answered_by);
  const bool to_call = machine_verdicts.deliver(call_sid, answered_by);
  log(log_level::info, "AMD verdict", {{"call_sid", call_sid}, {"answered_by", answered_by},
                                       {"detection_ms", params.get_or("MachineDetectionDuration", "")},
                                       {"call_listening", to_call ? "true" : "false"}});
  return {204, "text/plain", ""};
}

}  // namespace voicebridge::server
