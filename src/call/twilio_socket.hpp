// The Twilio side of one call's socket: its single writer (Beast allows one outstanding write) draining the
// call's outbound_queue, and the watchdog timer that bounds writes and idle callers. What to send and when to
// give up are the call's state's decisions (call/call_state.hpp); this carries them out.
#pragma once
#include <functional>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "call/call_state.hpp"
#include "call/limit_log.hpp"
#include "call/outbound_queue.hpp"

namespace voicebridge::call {

// The bare socket under the WebSocket: its own timer bounds the handshake and the close, the call's watchdog
// idle reads and writes; a basic_stream would add two idle timers and a layer to every operation.
using twilio_ws = boost::beast::websocket::stream<boost::asio::ip::tcp::socket>;

// The server's WebSocket handshake on a Twilio Media Stream upgrade, bounded by `handshake_timeout`; false
// (logged and counted) when it failed. The socket's own timer then bounds only the close: idle reads are the
// call's watchdog's, and MAX_WS_MESSAGE_BYTES is the call's read loop's.
boost::asio::awaitable<bool> accept_twilio_socket(
    twilio_ws& ws, const boost::beast::http::request<boost::beast::http::string_body>& upgrade,
    std::chrono::milliseconds handshake_timeout);

// Reads one whole message into `buffer` (empty), in steps of `read_step`, keeping at most `max_message` bytes:
// past that, `on_oversized` is called once and the rest of the message is read and thrown away, so that the
// caller's close is the writer's ordinary close handshake. Returns the read's error, and whether the message
// was too big (then `buffer` holds nothing of it).
struct message_read {
  boost::beast::error_code ec;
  bool oversized = false;
};
boost::asio::awaitable<message_read> read_twilio_message(twilio_ws& ws, boost::beast::flat_buffer& buffer,
                                                         std::size_t read_step, std::size_t max_message,
                                                         const std::function<void()>& on_oversized);

class twilio_socket {
 public:
  twilio_socket(twilio_ws& ws, call_state& state, limit_log& limits, std::size_t max_queue_bytes);

  // What the call queues; dropped past MAX_OUTBOUND_QUEUE_BYTES (counted) and once the call is closing.
  void send_text(std::string text);
  void send_audio(std::string payload_base64);
  void clear() { out_.clear(); }
  void send_close(std::optional<close_request> close);
  // Awaited by the writer before a close frame leaves (the call stores how it ends, for the other instances).
  void before_close(std::function<boost::asio::awaitable<void>()> hook) { before_close_ = std::move(hook); }
  std::uint64_t dropped() const { return dropped_; }

  void heard(std::chrono::steady_clock::time_point when) { last_heard_ = when; }  // news from the caller
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
  void watch(std::chrono::steady_clock::time_point now, const std::shared_ptr<void>& owner);

  twilio_ws& ws_;
  call_state& state_;
  limit_log& limits_;
  outbound_queue out_;
  boost::asio::steady_timer out_ready_;  // the writer's wake-up: cancelled when something is queued
  boost::asio::steady_timer watchdog_;
  bool no_more_writes_ = false;
  std::function<boost::asio::awaitable<void>()> before_close_;
  bool writer_done_ = false;
  std::optional<std::chrono::steady_clock::time_point> write_started_;  // of the write in progress
  std::chrono::steady_clock::time_point last_heard_;                    // the caller's last message or control frame
  std::uint64_t dropped_ = 0;
};

}  // namespace voicebridge::call
