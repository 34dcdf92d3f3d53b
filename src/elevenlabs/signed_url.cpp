#include "elevenlabs/signed_url.hpp"

#include <boost/json/parse.hpp>

#include "net/http_client.hpp"

namespace voicebridge::elevenlabs {
namespace asio = boost::asio;

namespace {
constexpr std::size_t max_answer_bytes = 64 * 1024;
// Unbounded here: the conversation's connect deadline races the whole of it.
constexpr auto no_timeout = std::chrono::hours(24);

signed_url_answer failed(std::string reason, connect_refusal refusal = connect_refusal::none) {
  signed_url_answer a;
  a.error = "signed URL " + reason;
  a.refusal = refusal;
  return a;
}
}  // namespace

asio::awaitable<signed_url_answer> fetch_signed_url(const asio::any_io_executor& executor,
                                                    std::shared_ptr<asio::ssl::context> tls,
                                                    const net::service_address& base, const std::string& agent_id,
                                                    const std::string& api_key) {
  net::http_request request;
  request.target = "/v1/convai/conversation/get-signed-url?agent_id=" + agent_id;
  request.headers.emplace_back("xi-api-key", api_key);
  net::http_client client(executor, std::move(tls));
  std::string body;
  auto ec = co_await client.send(base, request, no_timeout, max_answer_bytes);
  if (!ec) ec = co_await client.read_body(body, no_timeout);
  if (ec) co_return failed(client.failure(ec));
  if (client.status() != 200)
    co_return failed("refused: HTTP " + std::to_string(client.status()), refusal_of_signed_url(client.status()));
  boost::system::error_code jec;
  const auto json = boost::json::parse(body, jec);
  const auto* url = !jec && json.is_object() ? json.get_object().if_contains("signed_url") : nullptr;
  if (!url || !url->is_string()) co_return failed("response has no signed_url");
  signed_url_answer answer;
  answer.url = net::parse_service_url(std::string_view(url->get_string()));
  const char* expected = base.tls ? "wss" : "ws";
  if (!answer.url || answer.url->scheme != expected)
    co_return failed("response is not a " + std::string(expected) + " URL");
  co_return answer;
}

}  // namespace voicebridge::elevenlabs
