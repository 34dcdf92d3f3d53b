// The Twilio side of one call's socket after Beast's handshake: its reader (every WebSocket frame one read from
// the socket brought, parsed through net::ws_inbox), its single writer (what is queued, framed by
// net::append_frame and sent in one write), the close handshake, pings and pongs, and the watchdog timer that
// bounds writes and idle callers. Beast's stream did the framing until the profile showed its read and write
// operations costing more than the rest of a frame's work (docs/performance.md); it still does the handshake.
// What to send and when to give up are the call's state's decisions (call/call_state.hpp); this carries them out.
#pragma once
#include <functional>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "call/call_state.hpp"
#include "call/limit_log.hpp"
#include "call/outbound_queue.hpp"
#include "net/ws_close.hpp"
#include "net/ws_frames.hpp"
#include "net/ws_inbox.hpp"

namespace voicebridge::call {

// The server's WebSocket handshake on a Twilio Media Stream upgrade, by Beast, bounded by `handshake_timeout`;
// false (logged and counted) when it failed. From then on the bytes are twilio_socket's: Beast's stream (about
// 2.5 KiB per call) goes with the handshake, and `socket` is the bare socket again, its frames ours. The call's
// watchdog bounds idle reads and writes, and close_wait the close.
boost::asio::awaitable<bool> accept_twilio_socket(
    boost::asio::ip::tcp::socket& socket, const boost::beast::http::request<boost::beast::http::string_body>& upgrade,
    std::chrono::milliseconds handshake_timeout);

class twilio_socket {
 public:
  struct socket_limits {
    std::size_t max_queue_bytes;           // MAX_OUTBOUND_QUEUE_BYTES
    std::size_t max_message;               // MAX_WS_MESSAGE_BYTES
    std::chrono::milliseconds close_wait;  // for Twilio's close frame after ours
  };
  twilio_socket(boost::asio::ip::tcp::socket& socket, call_state& state, limit_log& limits, const socket_limits& bounds);

  // Reading, in three plain calls rather than a coroutine (whose frame would be allocated at every read):
  // parse() puts the data messages of every complete frame read so far in `messages` (none, one or more);
  // pings are answered and pongs noted here. A message over MAX_WS_MESSAGE_BYTES comes as `oversized`, without
  // its bytes (the read goes on: the call refuses it with its own close handshake). The reading is over with
  // websocket::error::closed after Twilio's close frame (answered by the writer), and with
  // net::error::ws_protocol_error after a frame that breaks the protocol (read_failure() says how; the socket
  // goes once the call's close frame is out). Otherwise read_more() reads what the socket has, and
  // received() takes its count.
  std::optional<boost::system::error_code> parse(std::vector<net::ws_message>& messages);
  boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_more();
  void received(std::size_t n);
  // A message's payload string, given back for the next message's bytes (no allocation per frame).
  void reuse(std::string payload) { inbox_.reuse(std::move(payload)); }
  const std::optional<net::ws_failure>& read_failure() const { return inbox_.failure(); }

  // What the call queues; dropped past MAX_OUTBOUND_QUEUE_BYTES (counted) and once the call is closing.
  void send_text(std::string text);
  void send_audio(std::string payload_base64);
  void clear() { out_.clear(); }
  void send_close(std::optional<close_request> close);
  // Awaited by the writer before a close frame leaves (the call stores how it ends, for the other instances).
  void before_close(std::function<boost::asio::awaitable<void>()> hook) { before_close_ = std::move(hook); }
  std::uint64_t dropped() const { return dropped_; }

  // The socket is gone (the reader ended): the writer ends once the queue is empty.
  void no_more_writes();
  // Writes what is queued, in order, until the close or a failure.
  boost::asio::awaitable<void> write_loop(const std::string& stream_sid);
  // Looks at the socket twice per the smaller timeout; `owner` is held by the timer's handler until the writer
  // ends (or stop()).
  void start_watchdog(std::shared_ptr<void> owner);
  void stop();
  // Drops the socket: fails a pending write and wakes the reader.
  void close_socket();

 private:
  void queued(bool accepted);
  void watch(std::chrono::steady_clock::time_point now);
  void on_control(net::ws_message& control);
  void queue_control(net::ws_message::kind what, std::string_view payload);
  bool take_writes(const std::string& stream_sid, std::optional<close_request>& close);
  boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write_wire();
  bool wrote(const boost::system::error_code& ec);
  boost::asio::awaitable<void> finish_close();

  boost::asio::ip::tcp::socket& socket_;
  call_state& state_;
  limit_log& limits_;
  socket_limits bounds_;
  outbound_queue out_;
  net::ws_inbox inbox_;
  std::string wire_;       // the frames of the next write
  std::string controls_;   // pongs and the watchdog's ping, framed, ahead of the next write's messages
  bool ping_queued_ = false;
  net::ws_close_handshake closing_;
  boost::asio::steady_timer out_ready_;  // the writer's wake-up: cancelled when something is queued
  boost::asio::steady_timer watchdog_;
  bool no_more_writes_ = false;
  std::function<boost::asio::awaitable<void>()> before_close_;
  bool writer_done_ = false;
  std::optional<std::chrono::steady_clock::time_point> write_started_;  // of the write in progress
  std::chrono::steady_clock::time_point last_heard_;                    // the caller's last frame of any kind
  std::uint64_t dropped_ = 0;
};

}  // namespace voicebridge::call
