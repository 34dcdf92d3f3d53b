// One HTTP/1.1 exchange with a service over http:// or https:// (ElevenLabs' signed URLs, Twilio's REST API,
// an LLM's streamed answers): connect, TLS, the request, the status and headers; then the body whole or
// piece by piece. Cancelling the awaiting coroutine aborts it. The request's headers (credentials among
// them) never reach a failure's text.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <span>
#include <string>

#include "net/address.hpp"
#include "net/error.hpp"
#include "net/ws_client.hpp"

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::net {

struct http_request {
  enum class method { get, post } verb = method::get;
  std::string target;  // path and query
  header_list headers;
  std::string content_type;  // with a body
  std::string body;
};

class http_client {
 public:
  http_client(const boost::asio::any_io_executor& executor, std::shared_ptr<boost::asio::ssl::context> tls);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Connects (TCP, then TLS for https), sends `request` and reads the answer's status line and headers, all
  // within `timeout`. A body over `body_limit` bytes fails its read with error::response_too_large.
  boost::asio::awaitable<boost::system::error_code> send(const service_address& address, const http_request& request,
                                                         std::chrono::milliseconds timeout, std::size_t body_limit);
  unsigned status() const;
  std::string header(std::string_view name) const;  // of the answer; empty when it has none
  // The body's next bytes into `chunk` (`got` of them), the read bounded by `timeout`; done() after the last.
  boost::asio::awaitable<boost::system::error_code> read_some(std::span<char> chunk, std::size_t& got,
                                                              std::chrono::milliseconds timeout);
  bool done() const;
  // The rest of the body, appended to `body`, each read bounded by `timeout`.
  boost::asio::awaitable<boost::system::error_code> read_body(std::string& body, std::chrono::milliseconds timeout);
  // What failed, for a log line: "connect: Connection refused", "TLS handshake: certificate verify failed".
  std::string failure(const boost::system::error_code& ec) const { return describe(failed_, ec); }

 private:
  struct connection;
  std::unique_ptr<connection> connection_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  step failed_ = step::none;
};

}  // namespace voicebridge::net
