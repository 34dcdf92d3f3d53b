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
#include <string_view>
#include <utility>
#include <vector>

#include "call/precall_answers.hpp"
#include "server/webhook_client.hpp"
#include "voicebridge/util/result.hpp"

namespace voicebridge::server {

struct precall_request {
  std::string call_sid, direction, from, to, route;
  std::string campaign;  // an outbound call a campaign placed; empty otherwise
  std::vector<std::pair<std::string, std::string>> row_variables;  // an outbound call's request (or row) variables
};

inline constexpr std::size_t max_precall_answer_bytes = 64 * 1024;
inline constexpr std::size_t max_precall_override_bytes = 16 * 1024;

std::string precall_body(const precall_request& request);
// The answer's body, checked: an object; variables as POST /api/calls takes them (names, types, sizes,
// none of the gateway's own); an override that is an object of at most max_precall_override_bytes.
util::result<call::precall_answer> parse_precall_answer(std::string_view body);

// Asks `post.url` (its body set here from `request`) and hands what came to `answers`, within `post.timeout`.
boost::asio::awaitable<void> ask_precall(precall_request request, signed_post post, call::precall_answers& answers);

}  // namespace voicebridge::server
