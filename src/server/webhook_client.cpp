#include "server/webhook_client.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "net/http_client.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;

namespace {

// Retry-After in seconds (RFC 9110, 10.2.3); an HTTP-date is not honoured (the backoff applies).
std::optional<std::chrono::seconds> retry_after_of(const std::string& text) {
  long long seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

}  // namespace

std::string host_of(const std::string& url) {
  const auto address = net::parse_service_url(url);
  return address ? address->host : std::string("(not a URL)");
}

asio::awaitable<signed_post_answer> post_signed(const signed_post& post) {
  signed_post_answer out;
  const auto address = net::parse_service_url(post.url);
  if (!address || (address->scheme != "http" && address->scheme != "https")) {
    out.answer.failure = "the webhook URL is not an http(s) URL";
    co_return out;
  }
  net::http_request request;
  request.verb = net::http_request::method::post;
  request.target = address->target;
  request.content_type = "application/json";
  request.body = post.body;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  request.headers.emplace_back(std::string(signature_header), webhook_signature(post.secret, post.body, now.count()));
  if (!post.idempotency_key.empty()) request.headers.emplace_back("Idempotency-Key", post.idempotency_key);
  request.headers.emplace_back("User-Agent", "voicebridge-webhooks/1");

  net::http_client client(co_await asio::this_coro::executor, post.tls);
  // One deadline for the whole exchange: send() bounds the head, each body read gets what is left.
  const auto deadline = std::chrono::steady_clock::now() + post.timeout;
  auto ec = co_await client.send(*address, request, post.timeout, post.body_limit);
  if (ec) {
    out.answer.failure = client.failure(ec);
    co_return out;
  }
  out.answer.status = client.status();
  out.answer.retry_after = retry_after_of(client.header("Retry-After"));
  if (out.answer.status >= 200 && out.answer.status < 300) {
    const auto left = std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                 deadline - std::chrono::steady_clock::now()));
    if (auto body_ec = co_await client.read_body(out.body, left)) {
      out.body.clear();
      out.answer.failure = client.failure(body_ec);
    }
  }
  co_return out;
}

}  // namespace voicebridge::server
