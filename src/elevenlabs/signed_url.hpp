// A private agent is reached through a signed URL fetched with the API key, one per call (ElevenLabs API
// reference, "Get signed URL": valid for 15 minutes to start one conversation). The URL is a credential:
// it never reaches a log line or an error's text.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "elevenlabs/conversation_end.hpp"
#include "net/address.hpp"

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::elevenlabs {

struct signed_url_answer {
  std::optional<net::service_address> url;  // a ws(s):// address of the same kind as the base URL
  connect_refusal refusal = connect_refusal::none;
  std::string error;  // why there is none, for the log
};

// GET /v1/convai/conversation/get-signed-url?agent_id=..., unbounded (the caller's connect deadline bounds it).
boost::asio::awaitable<signed_url_answer> fetch_signed_url(const boost::asio::any_io_executor& executor,
                                                           std::shared_ptr<boost::asio::ssl::context> tls,
                                                           const net::service_address& base, const std::string& agent_id,
                                                           const std::string& api_key);

}  // namespace voicebridge::elevenlabs
