#include "server/outbound_api.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "server/calls_api.hpp"
#include "server/outbound_request.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/stream_token.hpp"
#include "voicebridge/twilio/webhook.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using app::log;
using app::log_level;
using app::metrics;

namespace {

http_response refuse(const http_request& req, unsigned status, std::string_view result, std::string reason) {
  metrics().outbound_requests.inc(result);
  return api_reply(req, status, std::move(reason), false);
}

// RFC 9110 field-value characters, bounded: the key is stored and compared, never interpreted.
bool valid_idempotency_key(std::string_view key) {
  return !key.empty() && key.size() <= 255 &&
         std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

http_response created(const http_request& req, const std::string& call_sid, bool replayed) {
  json::object body{{"call_sid", call_sid},
                    {"record_url", std::string(app::calls_api_path) + "/" + call_sid},
                    {"status", "queued"}};
  auto res = api_reply(req, 201, json::serialize(body), true);
  if (replayed) res.set("Idempotent-Replayed", "true");
  return res;
}

}  // namespace

asio::awaitable<http_response> place_outbound_call(const http_request& req, outbound_services& s) {
  const auto& config = s.config;
  if (config.admin_token.empty()) co_return api_reply(req, 404, "the calls API is off: set ADMIN_TOKEN", false);
  if (!admin_authorized(req, config)) co_return refuse(req, 401, "unauthorized", "a bearer token is required");
  if (config.twilio_account_sid.empty() || config.twilio_auth_token.empty())
    co_return refuse(req, 503, "not_configured", "outbound calls need TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN");
  const std::string key(req["Idempotency-Key"]);
  if (req.find("Idempotency-Key") != req.end() && !valid_idempotency_key(key))
    co_return refuse(req, 400, "invalid", "Idempotency-Key: 1 to 255 printable characters");
  const auto table = s.routes.table();
  auto parsed = parse_outbound_request(req.body(), *table);
  if (!parsed) co_return refuse(req, 400, "invalid", parsed.error().message);
  if (s.active.size() >= config.max_calls) co_return refuse(req, 503, "at_max_calls", "at MAX_CALLS: try again later");

  records::outbound_call row;
  row.id = "OB" + util::random_hex(16);
  row.idempotency_key = key;
  row.route = parsed->route;
  row.to = parsed->to;
  row.from = parsed->from;
  row.variables = std::move(parsed->dynamic_variables);
  row.machine_detection = parsed->machine_detection;
  row.created_at_ms = records::now_epoch_ms();
  auto placing = place_call(std::move(row), s);  // named (GCC 12: docs/gcc12-coroutines.md)
  const auto placed = co_await std::move(placing);
  using result = placement::result;
  switch (placed.what) {
    case result::created:
      metrics().outbound_requests.inc("created");
      co_return created(req, placed.call_sid, false);
    case result::replayed:
      metrics().outbound_requests.inc("replayed");
      co_return created(req, placed.call_sid, true);
    case result::key_reused:
      co_return refuse(req, 422, "key_reused", "Idempotency-Key: already used for a different request");
    case result::in_progress:
      co_return refuse(req, 409, "in_progress", "a request with this Idempotency-Key is under way, or its outcome is unknown");
    case result::store_unavailable:
      co_return refuse(req, 503, "store_unavailable", "the call store is unavailable right now: nothing was dialled");
    case result::refused:
    case result::unreachable:
      break;
  }
  const bool unreachable = placed.what == result::unreachable;
  metrics().outbound_requests.inc(unreachable ? "unreachable" : "refused");
  json::object body{{"error", unreachable ? "Twilio did not answer: the call may or may not have been placed"
                                          : "Twilio refused the call"},
                    {"twilio_status", placed.twilio.status},
                    {"twilio_code", placed.twilio.twilio_code},
                    {"message", placed.twilio.message}};
  co_return api_reply(req, 502, json::serialize(body), true);
}

asio::awaitable<http_response> answer_outbound_twiml(const http_request& req, bool draining, outbound_services& s) {
  if (req.method() != http::verb::post) co_return api_reply(req, 405, "method not allowed", false);
  if (draining) {
    log(log_level::info, "outbound TwiML refused: draining");
    co_return api_reply(req, 503, "draining", false);
  }
  auto auth = twilio::authenticate_request(
      {req.target(), req[http::field::content_type], req["X-Twilio-Signature"], req.body()}, s.config);
  if (const auto* refusal = std::get_if<twilio::http_answer>(&auth))
    co_return api_reply(req, refusal->status, refusal->body.substr(0, refusal->body.find_last_not_of('\n') + 1), false);
  const auto& params = std::get<twilio::form_params>(auth);
  const std::string_view target = req.target();
  const auto q = target.find('?');
  auto query = twilio::parse_form(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
  const std::string route(query ? query->get_or("route", "") : "");
  const std::string id(query ? query->get_or("request", "") : "");
  const std::string call_sid(params.get_or("CallSid", ""));
  std::vector<std::pair<std::string, std::string>> variables;
  if (!id.empty()) {
    std::optional<records::outbound_call> row;
    // The store down: the call is still served, with the route's own variables (said in the log).
    const std::function<void(records::call_store&)> find = [&](records::call_store& store) { row = store.find_outbound(id); };
    if (co_await on_database(s, find, "find")) {
      if (row && row->route == route && (row->call_sid.empty() || row->call_sid == call_sid))
        variables = std::move(row->variables);
      else
        log(log_level::warn, "outbound TwiML: no request matches this call; served without its variables",
            {{"call_sid", call_sid}, {"route", route}});
    }
  }
  if (query && query->get_or("amd", "") == "1") variables.emplace_back(twilio::machine_detection_parameter, "true");
  const auto answer = s.webhooks.answer_outbound(params, route, variables);
  http_response res{static_cast<http::status>(answer.status), req.version()};
  res.set(http::field::server, "voicebridge");
  res.set(http::field::content_type, answer.content_type);
  res.body() = answer.body;
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  co_return res;
}

}  // namespace voicebridge::server
