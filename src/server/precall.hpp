// The pre-call webhook: as a call is answered (Twilio's voice webhook, or the outbound TwiML fetch when the
// callee picks up), the route's precall_webhook_url is POSTed who is calling whom, signed, and may answer
// the call's dynamic variables and a conversation_config_override for the agent. It runs beside the
// pre-warm, which waits for it until PRECALL_TIMEOUT_MS after the webhook at most; a late, failing or
// malformed answer never fails the call: the route's defaults go, and a log line and
// webhook_deliveries_total{kind="precall"} say why.
//
//   request  {"call_sid", "direction", "from", "to", "route", "campaign"?, "row_variables"?}
//   answer   {"dynamic_variables"?: {name: string | number | boolean}, "conversation_config_override"?: {...}}
#pragma once
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "call/precall_answers.hpp"
#include "server/precall_answer.hpp"
#include "server/webhook_client.hpp"

namespace voicebridge::server {

// Asks `post.url` (its body set here from `request`) and hands what came to `answers`, within `post.timeout`.
boost::asio::awaitable<void> ask_precall(precall_request request, signed_post post, call::precall_answers& answers);

}  // namespace voicebridge::server
