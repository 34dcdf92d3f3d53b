// One signed POST of JSON to the business's receiver (a pre-call or post-call webhook): the signature
// (server/webhook_policy.hpp), the Idempotency-Key, the request bounded by `timeout`, the answer's body
// bounded by `body_limit`. Neither the secret nor the URL's query reaches a failure's text.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "server/webhook_policy.hpp"

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::server {

struct signed_post {
  std::string url;
  std::string secret;
  std::string body;             // JSON
  std::string idempotency_key;  // empty: none
  std::chrono::milliseconds timeout{10000};
  std::size_t body_limit = 64 * 1024;
  std::shared_ptr<boost::asio::ssl::context> tls;  // for https URLs
};

struct signed_post_answer {
  attempt_answer answer;  // status, or the failure
  std::string body;       // read only with a 2xx
};

boost::asio::awaitable<signed_post_answer> post_signed(const signed_post& post);

// The host of a URL, for a log line (a receiver's URL may carry a token in its path or query).
std::string host_of(const std::string& url);

}  // namespace voicebridge::server
