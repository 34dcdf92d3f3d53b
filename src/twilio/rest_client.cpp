#include "twilio/rest_client.hpp"

#include <boost/asio/this_coro.hpp>

#include "net/http_client.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::twilio {
namespace asio = boost::asio;

namespace {
constexpr std::size_t max_answer_bytes = 256 * 1024;  // Twilio's call JSON, or its error JSON

// One authenticated request to Twilio's API (a form POST, or a GET without `form`): its status and body, or
// why no answer came.
struct form_answer {
  unsigned status = 0;
  std::string body;
  std::string failure;  // set when no answer came
};

asio::awaitable<form_answer> ask_twilio(const rest_settings& settings, const std::string& target, const form_params* form) {
  const auto address = net::parse_service_url(settings.api_base);
  if (!address) co_return form_answer{0, {}, "TWILIO_API_BASE is not a URL"};
  net::http_request request;
  request.verb = form ? net::http_request::method::post : net::http_request::method::get;
  request.target = target;
  const std::string credentials = settings.account_sid + ":" + settings.auth_token;
  request.headers.emplace_back(
      "Authorization",
      "Basic " + util::base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(credentials.data()), credentials.size())));
  if (form) {
    request.content_type = "application/x-www-form-urlencoded";
    request.body = encode_form(*form);
  }

  net::http_client client(co_await asio::this_coro::executor, settings.tls);
  form_answer answer;
  auto ec = co_await client.send(*address, request, settings.timeout, max_answer_bytes);
  if (!ec) ec = co_await client.read_body(answer.body, settings.timeout);
  if (ec) co_return form_answer{0, {}, client.failure(ec)};
  answer.status = client.status();
  co_return answer;
}

}  // namespace

asio::awaitable<rest_result> update_call_twiml(const rest_settings& settings, const std::string& call_sid,
                                               const std::string& twiml) {
  form_params form;
  form.add("Twiml", twiml);
  // Named locals, not temporaries in the co_await (GCC 12: docs/gcc12-coroutines.md).
  const std::string target = "/2010-04-01/Accounts/" + settings.account_sid + "/Calls/" + call_sid + ".json";
  const auto answer = co_await ask_twilio(settings, target, &form);
  if (!answer.failure.empty()) co_return rest_result{0, answer.failure};
  std::string error;
  if (answer.status < 200 || answer.status >= 300)
    error = "HTTP " + std::to_string(answer.status) + ": " + answer.body.substr(0, 200);  // Twilio's error JSON
  co_return rest_result{answer.status, std::move(error)};
}

asio::awaitable<created_call> create_call(const rest_settings& settings, const call_creation& call) {
  const auto form = call_creation_form(call);
  const std::string target = "/2010-04-01/Accounts/" + settings.account_sid + "/Calls.json";
  const auto answer = co_await ask_twilio(settings, target, &form);
  if (!answer.failure.empty()) {
    created_call none;
    none.message = answer.failure;
    co_return none;
  }
  co_return read_call_creation_answer(answer.status, answer.body);
}

asio::awaitable<fetched_call> fetch_call(const rest_settings& settings, const std::string& call_sid) {
  const std::string target = "/2010-04-01/Accounts/" + settings.account_sid + "/Calls/" + call_sid + ".json";
  const auto answer = co_await ask_twilio(settings, target, nullptr);
  if (!answer.failure.empty()) {
    fetched_call none;
    none.message = answer.failure;
    co_return none;
  }
  co_return read_call_fetch_answer(answer.status, answer.body);
}

}  // namespace voicebridge::twilio
