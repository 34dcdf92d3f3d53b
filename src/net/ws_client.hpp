// A client WebSocket to a service (an ElevenLabs conversation, speech-to-text, text-to-speech) over ws:// or
// wss://, chosen at run time. Not thread-safe: used from one call's executor. One read and one write may be
// outstanding at a time (Beast's rule); the user keeps one writer.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "net/address.hpp"
#include "net/error.hpp"

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::net {

using header_list = std::vector<std::pair<std::string, std::string>>;

class ws_client {
 public:
  ws_client(const boost::asio::any_io_executor& executor, std::shared_ptr<boost::asio::ssl::context> tls);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  // TCP, TLS (when the address says so), upgrade to `target` with `headers`; text messages from then on.
  // Unbounded: the caller races it with a deadline. `idle_timeout`: nothing received for that long closes
  // the socket (every operation then fails); zero: no such bound here (Beast's idle timer is re-armed at
  // every operation, a cost per message), the caller keeps its own clock and drop()s the socket.
  boost::asio::awaitable<boost::system::error_code> connect(const service_address& address, const std::string& target,
                                                            const header_list& headers,
                                                            std::chrono::milliseconds idle_timeout);
  // After a failed connect: the HTTP status of a refused upgrade (0 when it got no answer), and what failed,
  // for a log line ("upgrade refused: HTTP 403", "TLS handshake: certificate verify failed").
  unsigned upgrade_status() const { return upgrade_status_; }
  std::string failure(const boost::system::error_code& ec) const;

  // The hot path returns Beast's own awaitable operation (these are plain functions, not coroutines): a
  // coroutine in between would add a frame per message and per step, ~2 % of a forwarded frame's cost
  // (tools/profile-frame).
  using result = std::tuple<boost::system::error_code, std::size_t>;
  // Up to `max_bytes` of the current message into `buffer`; is_message_done() says when it is whole. Steps
  // keep the buffer near the messages' size (a whole-message read makes room for 1536 bytes first).
  boost::asio::awaitable<result> read_some(boost::beast::flat_buffer& buffer, std::size_t max_bytes);
  bool is_message_done() const;
  // One whole message into `buffer`, for the occasional read (a handshake's answer).
  boost::asio::awaitable<result> read(boost::beast::flat_buffer& buffer);
  // `text` must outlive the operation.
  boost::asio::awaitable<result> write(std::string_view text);
  // A close that fails leaves nothing to do: the socket goes with this object.
  boost::asio::awaitable<void> close(boost::beast::websocket::close_code code);
  // The peer's close frame, after a read failed with websocket::error::closed.
  boost::beast::websocket::close_reason reason() const;
  bool is_open() const;
  // Closes the socket at once: every pending operation fails.
  void drop();

 private:
  struct streams;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<streams> streams_;
  step failed_ = step::none;
  unsigned upgrade_status_ = 0;
};

}  // namespace voicebridge::net
