// A client WebSocket to a service (an ElevenLabs conversation, speech-to-text, text-to-speech) over ws:// or
// wss://, chosen at run time. Not thread-safe: used from one call's executor.
//
// The frames are ours (net/ws_frames.hpp), as on the Twilio side (call/twilio_socket.hpp): one read of the
// socket delivers every frame it brought, and one write sends a message with the control frames owed before
// it. Beast's websocket::stream did this until the profile showed its read and write operations costing more
// than the rest of a forwarded frame's work (docs/performance.md); Beast still writes the upgrade request and
// reads its answer (net/ws_upgrade.hpp checks it).
//
// One reader and one writer at a time. Control frames go through the writer: a ping to answer, the keep-alive's
// ping or the answer to the service's close frame is queued, and the owner's writer is woken (on_control_owed)
// to call write({}) when it has no message to carry them.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "net/address.hpp"
#include "net/error.hpp"
#include "net/ws_close.hpp"
#include "net/ws_frames.hpp"
#include "net/ws_inbox.hpp"
#include "net/ws_keepalive.hpp"

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::net {

using header_list = std::vector<std::pair<std::string, std::string>>;

// The close code of a connection that ended as meant (RFC 6455, section 7.4.1).
constexpr std::uint16_t ws_normal_closure = 1000;

class ws_client {
 public:
  ws_client(const boost::asio::any_io_executor& executor, std::shared_ptr<boost::asio::ssl::context> tls);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  // TCP, TLS (when the address says so), upgrade to `target` with `headers`; messages from then on. Unbounded:
  // the caller races it with a deadline. `idle_timeout`: nothing received for half of it sends a ping, and
  // nothing for all of it drops the socket (every operation then fails), on one timer per connection; zero:
  // no such bound here (the caller keeps its own clock and drop()s the socket).
  boost::asio::awaitable<boost::system::error_code> connect(const service_address& address, const std::string& target,
                                                            const header_list& headers,
                                                            std::chrono::milliseconds idle_timeout);
  // After a failed connect: the HTTP status of a refused upgrade (0 when it got no answer, or a 101 that was
  // not a WebSocket upgrade), and what failed, for a log line ("upgrade refused: HTTP 403", "TLS handshake:
  // certificate verify failed").
  unsigned upgrade_status() const { return upgrade_status_; }
  std::string failure(const boost::system::error_code& ec) const;

  using result = std::tuple<boost::system::error_code, std::size_t>;
  // Reading, in three plain calls rather than a coroutine (whose frame would be allocated at every message):
  // parse() puts the data messages of every complete frame read so far in `messages` (none, one or more);
  // pings are answered through the writer. Then it returns websocket::error::closed once the service's close
  // frame was read (peer_close() says what it carried), net::error::ws_protocol_error after a frame that breaks
  // the protocol (the socket is dropped; protocol_failure() says how), and otherwise nothing: read_more() reads
  // what the socket has, and received() takes what it did (a failure ends the reading, and close() waits no
  // more for the service's close frame). parse() and read_more() need a connection (connect() succeeded).
  std::optional<boost::system::error_code> parse(std::vector<ws_message>& messages);
  boost::asio::awaitable<result> read_more();
  void received(const boost::system::error_code& ec, std::size_t n);
  // A message's payload string, given back for the next message's bytes (no allocation per message).
  void reuse(std::string payload) { inbox_.reuse(std::move(payload)); }
  // One whole data message, for the occasional read (a handshake's answer) and the slower paths: a coroutine
  // over the three calls above. Messages it read past the one it returns wait for the next parse() or read().
  boost::asio::awaitable<boost::system::error_code> read(std::string& message);

  struct close_frame {
    std::uint16_t code = 0;  // 0: none came, or it carried no code
    std::string reason;
  };
  const close_frame& peer_close() const { return peer_close_; }
  const std::optional<ws_failure>& protocol_failure() const { return inbox_.failure(); }

  // Frames `text` as one masked text message (RFC 6455, section 5.3), after the control frames owed, and sends
  // them in one write; an empty `text` sends only what is owed. After the service's close frame only the answer
  // to it leaves. A plain function returning Asio's operation (no coroutine frame per message); `text` is
  // copied, as masking needs.
  boost::asio::awaitable<result> write(std::string_view text);
  // Called (on this executor) when a control frame was queued: the owner's writer is to call write({}) unless
  // a message is about to carry it.
  void on_control_owed(std::function<void()> wake) { wake_writer_ = std::move(wake); }
  // Our close frame (after what is owed), then the service's, read by the reader, then the teardown (TLS's
  // close_notify, and the server's end of TCP), all within close_wait; then the socket goes. By the writer, as
  // its last write. A close that fails leaves nothing to do.
  boost::asio::awaitable<void> close(std::uint16_t code);
  bool is_open() const;
  // Closes the socket at once: every pending operation fails.
  void drop();

  // How long close() waits for the service's close frame after ours.
  static constexpr std::chrono::seconds close_wait{5};

 private:
  struct transport;
  void queue_control(ws_message::kind what, std::string_view payload, std::uint16_t code = 0);
  void start_keepalive(std::chrono::milliseconds idle_timeout);
  boost::asio::awaitable<void> tear_down();
  static ws_inbox new_inbox();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<transport> transport_;
  step failed_ = step::none;
  unsigned upgrade_status_ = 0;

  ws_inbox inbox_;
  std::vector<ws_message> ready_;  // messages read() parsed but has not handed out yet, from ready_next_
  std::size_t ready_next_ = 0;
  std::string wire_;      // the frames of the write in progress
  std::string controls_;  // pongs, the keep-alive's ping and close frames, framed, ahead of the next message
  std::function<void()> wake_writer_;
  ws_close_handshake closing_;
  bool close_queued_ = false;  // ours or the answer to theirs: no message may follow it
  close_frame peer_close_;
  ws_keepalive keepalive_;
  std::shared_ptr<ws_client*> alive_;  // the timers' handlers look through it: gone with this object
};

}  // namespace voicebridge::net
