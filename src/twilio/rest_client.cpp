#include "twilio/rest_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "voicebridge/twilio/form.hpp"
#include "net/client.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::twilio {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class Stream>
asio::awaitable<rest_result> exchange(Stream& stream, http::request<http::string_body>& req) {
  if (auto [ec, n] = co_await http::async_write(stream, req, use_tuple); ec) co_return rest_result{0, "send: " + ec.message()};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024);
  if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple); ec)
    co_return rest_result{0, "read: " + ec.message()};
  const unsigned status = parser.get().result_int();
  std::string error;
  if (status < 200 || status >= 300) {
    error = "HTTP " + std::to_string(status) + ": " + parser.get().body().substr(0, 200);  // Twilio's error JSON
  }
  co_return rest_result{status, std::move(error)};
}

}  // namespace

asio::awaitable<rest_result> update_call_twiml(const rest_settings& settings, const std::string& call_sid,
                                               const std::string& twiml) {
  const std::string base = settings.api_base;  // NUL-terminated for Boost.URL 1.81
  auto url = boost::urls::parse_uri(base);
  if (!url || url->host().empty()) co_return rest_result{0, "TWILIO_API_BASE is not a URL"};
  const bool tls = url->scheme() == "https";
  const std::string host(url->host());
  const std::string port = url->has_port() ? std::string(url->port()) : tls ? "443" : "80";

  http::request<http::string_body> req{http::verb::post,
                                       "/2010-04-01/Accounts/" + settings.account_sid + "/Calls/" + call_sid + ".json", 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "voicebridge");
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  const std::string credentials = settings.account_sid + ":" + settings.auth_token;
  req.set(http::field::authorization,
          "Basic " + util::base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(credentials.data()), credentials.size())));
  form_params form;
  form.add("Twiml", twiml);
  req.body() = encode_form(form);
  req.prepare_payload();

  const auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_after(settings.timeout);  // one deadline for the whole exchange, TLS included
  if (auto error = co_await net::connect_tcp(tcp_stream, host, port); !error.empty()) co_return rest_result{0, error};
  if (!tls) {
    auto result = co_await exchange(tcp_stream, req);
    co_return result;
  }
  if (!settings.tls) co_return rest_result{0, "no TLS context"};
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *settings.tls);
  if (auto ec = co_await net::tls_client_handshake(stream, host); ec) co_return rest_result{0, "TLS handshake: " + ec.message()};
  auto result = co_await exchange(stream, req);
  co_return result;
}

}  // namespace voicebridge::twilio
