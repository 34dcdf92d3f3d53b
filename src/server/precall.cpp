#include "server/precall.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "server/outbound_request.hpp"
#include "util/json_fields.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
namespace json = boost::json;
using namespace asio::experimental::awaitable_operators;
using app::log;
using app::log_level;
using app::metrics;

std::string precall_body(const precall_request& r) {
  json::object body{{"call_sid", r.call_sid}, {"direction", r.direction}, {"from", r.from}, {"to", r.to}, {"route", r.route}};
  if (!r.campaign.empty()) body["campaign"] = r.campaign;
  if (!r.row_variables.empty()) {
    json::object variables;
    for (const auto& [name, value] : r.row_variables) variables[name] = value;
    body["row_variables"] = std::move(variables);
  }
  return json::serialize(body);
}

util::result<call::precall_answer> parse_precall_answer(std::string_view body) {
  if (body.size() > max_precall_answer_bytes) return util::fail("the answer is over 64 KiB");
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return call::precall_answer{};  // 204, or empty: defaults
  auto parsed = util::parse_json_object(body);
  if (!parsed) return util::fail("not a JSON object: " + parsed.error().message);
  call::precall_answer answer;
  for (const auto& [key, value] : parsed->get_object()) {
    if (key == "dynamic_variables") {
      // The call's own facts are the gateway's: a receiver that echoes them back is not wrong, only ignored.
      json::value named = value;
      if (auto* o = named.if_object()) {
        for (auto it = o->begin(); it != o->end();) {
          if (!is_gateway_variable(it->key())) {
            ++it;
            continue;
          }
          answer.ignored.emplace_back(it->key());
          it = o->erase(it);
        }
      }
      auto variables = read_variables(named);
      if (!variables) return util::fail(variables.error().message);
      answer.dynamic_variables = std::move(*variables);
    } else if (key == "conversation_config_override") {
      if (!value.is_object()) return util::fail("conversation_config_override: expected an object");
      answer.config_override_json = json::serialize(value);
      if (answer.config_override_json.size() > max_precall_override_bytes)
        return util::fail("conversation_config_override: at most 16 KiB");
    } else {
      return util::fail("unknown field " + std::string(key).substr(0, 64) +
                        " (expected dynamic_variables, conversation_config_override)");
    }
  }
  return answer;
}

asio::awaitable<void> ask_precall(precall_request request, signed_post post, call::precall_answers& answers) {
  post.body = precall_body(request);
  post.body_limit = max_precall_answer_bytes;
  const auto began = std::chrono::steady_clock::now();
  // The POST bounds itself; the timer is the promise kept to the waiting conversation: never past the deadline.
  asio::steady_timer deadline(co_await asio::this_coro::executor, post.timeout);
  auto sent = co_await (post_signed(post) || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
  const char* result = "ok";
  std::string why;
  std::optional<call::precall_answer> answer;
  if (sent.index() == 1) {
    result = "timeout";
    why = "no answer within PRECALL_TIMEOUT_MS";
  } else if (const auto& got = std::get<0>(sent); got.answer.status < 200 || got.answer.status >= 300 || !got.answer.failure.empty()) {
    result = "error";
    why = got.answer.failure.empty() ? describe(got.answer) : got.answer.failure;
  } else if (auto checked = parse_precall_answer(got.body); !checked) {
    result = "malformed";
    why = checked.error().message;
  } else {
    answer = std::move(*checked);
  }
  metrics().webhook_deliveries.inc("precall", result);
  if (why.empty()) {
    std::string ignored;
    for (const auto& name : answer->ignored) ignored += (ignored.empty() ? "" : ",") + name;
    log(log_level::info, "pre-call webhook answered",
        {{"call_sid", request.call_sid}, {"route", request.route}, {"host", host_of(post.url)}, {"ms", elapsed_ms},
         {"variables", answer->dynamic_variables.size()}, {"ignored", ignored}});
  } else {
    log(log_level::warn, "pre-call webhook unusable: the route's defaults are used",
        {{"call_sid", request.call_sid}, {"route", request.route}, {"host", host_of(post.url)}, {"result", result},
         {"reason", why}, {"ms", elapsed_ms}});
  }
  answers.answer(request.call_sid, std::move(answer));
}

}  // namespace voicebridge::server
