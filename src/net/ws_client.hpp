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
  // the socket (every operation then fails).
  boost::asio::awaitable<boost::system::error_code> connect(const service_address& address, const std::string& target,
                                                            const header_list& headers,
                                                            std::chrono::milliseconds idle_timeout);
  // After a failed connect: the HTTP status of a refused upgrade (0 when it got no answer), and what failed,
  // for a log line ("upgrade refused: HTTP 403", "TLS handshake: certificate verify failed").
  unsigned upgrade_status() const { return upgrade_status_; }
  std::string failure(const boost::system::error_code& ec) const;

  // One whole message into `buffer`. With `step_bytes`, read in steps of that size so that the buffer stays
  // near the messages' size (a whole-message read makes room for 1536 bytes first).
  boost::asio::awaitable<boost::system::error_code> read_message(boost::beast::flat_buffer& buffer,
                                                                 std::size_t step_bytes = 0);
  boost::asio::awaitable<boost::system::error_code> write(std::string_view text);
  // A close that fails leaves nothing to do: the socket goes with this object.
  boost::asio::awaitable<void> close(boost::beast::websocket::close_code code);
  // The peer's close frame, after a read failed with websocket::error::closed.
  boost::beast::websocket::close_reason reason() const;
  bool is_open() const;

 private:
  struct streams;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<streams> streams_;
  step failed_ = step::none;
  unsigned upgrade_status_ = 0;
};

}  // namespace voicebridge::net
