#include "twilio/rest_client.hpp"

#include <boost/asio/this_coro.hpp>

#include "net/http_client.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::twilio {
namespace asio = boost::asio;

namespace {
constexpr std::size_t max_answer_bytes = 256 * 1024;  // Twilio's call JSON, or its error JSON
}

asio::awaitable<rest_result> update_call_twiml(const rest_settings& settings, const std::string& call_sid,
                                               const std::string& twiml) {
  const auto address = net::parse_service_url(settings.api_base);
  if (!address) co_return rest_result{0, "TWILIO_API_BASE is not a URL"};

  net::http_request request;
  request.verb = net::http_request::method::post;
  request.target = "/2010-04-01/Accounts/" + settings.account_sid + "/Calls/" + call_sid + ".json";
  const std::string credentials = settings.account_sid + ":" + settings.auth_token;
  request.headers.emplace_back(
      "Authorization",
      "Basic " + util::base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(credentials.data()), credentials.size())));
  request.content_type = "application/x-www-form-urlencoded";
  form_params form;
  form.add("Twiml", twiml);
  request.body = encode_form(form);

  net::http_client client(co_await asio::this_coro::executor, settings.tls);
  std::string body;
  auto ec = co_await client.send(*address, request, settings.timeout, max_answer_bytes);
  if (!ec) ec = co_await client.read_body(body, settings.timeout);
  if (ec) co_return rest_result{0, client.failure(ec)};
  const unsigned status = client.status();
  std::string error;
  if (status < 200 || status >= 300) error = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);  // Twilio's error JSON
  co_return rest_result{status, std::move(error)};
}

}  // namespace voicebridge::twilio
