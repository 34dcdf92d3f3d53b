#include "server/precall.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using app::log;
using app::log_level;
using app::metrics;

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
