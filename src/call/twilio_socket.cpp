#include "call/twilio_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <array>

#include "net/error.hpp"
#include "util/recycled_text.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
namespace websocket = beast::websocket;
using app::log;
using app::log_level;
using kind = net::ws_message::kind;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A buffer grown past this (a `start` with many custom parameters, a backlog written in one go) is given back
// after it: what a call keeps between frames is what a frame needs (a media message is about 370 bytes,
// `start` about 1 KiB).
constexpr std::size_t kept_buffer = 4 * net::ws_inbox::read_step;
// At most this much of what is queued goes in one write: the write buffer is per call.
constexpr std::size_t max_write = 16 * 1024;
// Pongs owed past this (a ping flood) are not sent: a pong may answer only the latest ping (RFC 6455, 5.5.3).
constexpr std::size_t max_controls = 1024;

}  // namespace

asio::awaitable<bool> accept_twilio_socket(tcp::socket& socket, const beast::http::request<beast::http::string_body>& upgrade,
                                           std::chrono::milliseconds handshake_timeout) {
  websocket::stream<tcp::socket> ws(std::move(socket));
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = handshake_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "voicebridge"); }));
  auto [ec] = co_await ws.async_accept(upgrade, use_tuple);
  // Beast reads nothing past the request it is given, so nothing of Twilio's stays in its buffers.
  socket = std::move(ws.next_layer());
  if (!ec) co_return true;
  if (ec == beast::error::timeout) app::metrics().limit_hits.inc("handshake_timeout");
  log(log_level::warn, "twilio stream handshake failed", {{"error", ec.message()}});
  co_return false;
}

twilio_socket::twilio_socket(tcp::socket& socket, call_state& state, limit_log& limits, const socket_limits& bounds)
    : socket_(socket),
      state_(state),
      limits_(limits),
      bounds_(bounds),
      out_(bounds.max_queue_bytes),
      // A message over MAX_WS_MESSAGE_BYTES is skipped, not fatal: the call answers it with its own close
      // handshake, which reads on until Twilio's close frame, so that Twilio sees 1009 and not a reset.
      inbox_(net::ws_role::server, bounds.max_message, net::ws_oversized::skip, kept_buffer),
      out_ready_(socket.get_executor(), asio::steady_timer::time_point::max()),
      watchdog_(socket.get_executor()),
      last_heard_(std::chrono::steady_clock::now()) {}

// --- reading ---

std::optional<boost::system::error_code> twilio_socket::parse(std::vector<net::ws_message>& messages) {
  messages.clear();
  inbox_.read(messages);
  if (inbox_.failure()) closing_.on_read_failed();
  // Control frames are this socket's, answered in the order they came; what is left for the call is its data
  // messages, in theirs.
  std::size_t kept = 0;
  for (auto& m : messages) {
    if (m.what != kind::text && m.what != kind::binary) on_control(m);
    else if (&m != &messages[kept++]) messages[kept - 1] = std::move(m);
  }
  messages.resize(kept);
  if (closing_.peer_closed()) return websocket::error::closed;
  if (inbox_.failure()) return net::error::ws_protocol_error;
  return std::nullopt;
}

asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> twilio_socket::read_more() {
  const auto room = inbox_.space();
  return socket_.async_read_some(asio::buffer(room.data(), room.size()), use_tuple);
}

void twilio_socket::received(std::size_t n) {
  inbox_.received(n);
  last_heard_ = std::chrono::steady_clock::now();
}

void twilio_socket::on_control(net::ws_message& control) {
  switch (control.what) {
    case kind::ping: return queue_control(kind::pong, control.payload);  // RFC 6455, 5.5.2: the same payload
    case kind::pong: return;  // the watchdog's answer: last_heard_ is set
    case kind::close:
      out_ready_.cancel();  // a writer waiting for it (finish_close) goes on
      if (!closing_.on_peer_close(state_.closing())) return;
      out_.clear();  // nothing is sent after the answer
      send_close(close_request{control.close_code, ""});
      return;
    default: return;
  }
}

void twilio_socket::queue_control(kind what, std::string_view payload) {
  if (controls_.size() > max_controls) return;
  net::append_frame(controls_, what, payload);
  out_ready_.cancel();
}

// --- writing ---

void twilio_socket::send_text(std::string text) {
  if (!state_.closing()) queued(out_.push_text(std::move(text)));
}

void twilio_socket::send_audio(std::string payload_base64) {
  if (!state_.closing()) queued(out_.push_audio(std::move(payload_base64)));
}

void twilio_socket::queued(bool accepted) {
  if (accepted) {
    out_ready_.cancel();
    return;
  }
  ++dropped_;
  limits_.hit("outbound_queue", state_.call_sid());
}

void twilio_socket::send_close(std::optional<close_request> close) {
  if (!close) return;
  out_.push_close(std::move(*close));
  out_ready_.cancel();
}

void twilio_socket::no_more_writes() {
  no_more_writes_ = true;
  out_ready_.cancel();
}

// Frames what is queued into wire_, up to max_write: the control frames owed, then the messages in order. Stops
// at the close, which it hands back in `close` (the writer sends it on its own). True when it took anything.
bool twilio_socket::take_writes(const std::string& stream_sid, std::optional<close_request>& close) {
  wire_ += controls_;
  controls_.clear();
  while (wire_.size() < max_write) {
    auto next = out_.take(stream_sid);
    if (!next) break;
    if (next->close) {
      close = std::move(next->close);
      break;
    }
    if (next->merged_chunks) app::metrics().coalesced_audio_chunks.inc(next->merged_chunks);
    net::append_frame(wire_, kind::text, next->text);
    util::recycle_text(std::move(next->text));
  }
  return !wire_.empty() || close;
}

// One write of wire_, bounded by the watchdog (which closes the socket under a write pending too long): no
// timer per write. A plain function returning Asio's operation, not a coroutine, whose frame would be
// allocated at every write.
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> twilio_socket::write_wire() {
  write_started_ = std::chrono::steady_clock::now();
  return asio::async_write(socket_, asio::buffer(wire_), use_tuple);
}

// After a write: false (the socket dropped) when it failed.
bool twilio_socket::wrote(const boost::system::error_code& ec) {
  write_started_.reset();
  wire_.clear();
  if (wire_.capacity() > kept_buffer) wire_ = {};  // a backlog's batch: its memory is not kept for every call
  if (ping_queued_) {
    ping_queued_ = false;
    state_.on_pong_or_ping_done();
  }
  if (!ec) return true;
  state_.on_write_failed();
  log(log_level::warn, "twilio stream write failed",
      {{"call_sid", state_.call_sid()}, {"reason", state_.write_timed_out() ? "write timeout" : ec.message()}});
  close_socket();
  return false;
}

asio::awaitable<void> twilio_socket::write_loop(const std::string& stream_sid) {
  for (;;) {
    std::optional<close_request> close;
    if (!take_writes(stream_sid, close)) {
      if (no_more_writes_) break;
      out_ready_.expires_at(asio::steady_timer::time_point::max());
      co_await out_ready_.async_wait(use_tuple);
      continue;
    }
    if (close && !closing_.answering() && before_close_) {  // what came before the close leaves first
      if (!wire_.empty()) {
        auto [ec, n] = co_await write_wire();
        if (!wrote(ec)) break;
      }
      co_await before_close_();
    }
    if (close) net::append_frame(wire_, kind::close, close->reason, net::ws_fragment::whole, std::nullopt, close->code);
    auto [ec, n] = co_await write_wire();
    if (!wrote(ec)) break;
    if (close) {
      co_await finish_close();
      break;
    }
  }
  no_more_writes_ = true;
  stop();  // ends the watchdog
}

// After our close frame, as the handshake says (net/ws_close.hpp); Twilio's close frame may never come, so
// every wait is bounded by close_wait. The socket goes at the end: the server closes TCP first (RFC 6455,
// section 7.1.1).
asio::awaitable<void> twilio_socket::finish_close() {
  const auto give_up = std::chrono::steady_clock::now() + bounds_.close_wait;
  switch (closing_.after_our_close()) {
    case net::ws_close_handshake::then::drop: break;
    case net::ws_close_handshake::then::await_peer_close:
      // The reader reads on; Twilio's close frame (or the reader's end) wakes this wait.
      while (!closing_.peer_closed() && !no_more_writes_ && std::chrono::steady_clock::now() < give_up) {
        out_ready_.expires_at(give_up);
        co_await out_ready_.async_wait(use_tuple);
      }
      break;
    case net::ws_close_handshake::then::drain_then_drop: {
      // The reader stopped at a frame it could not read: stop sending and read until Twilio closes its side (as
      // Beast's teardown does), so that our close frame is not lost to a reset. The timer drops the socket,
      // which ends the read, if Twilio never does.
      beast::error_code ignored;
      socket_.shutdown(asio::socket_base::shutdown_send, ignored);
      asio::steady_timer limit(socket_.get_executor(), give_up);
      limit.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) close_socket();
      });
      std::array<char, net::ws_inbox::read_step> sink;
      for (;;) {
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(sink), use_tuple);
        if (ec) break;
      }
      limit.cancel();
      break;
    }
  }
  close_socket();
}

// One timer per call watches the socket both ways (call_state::watch decides). Beast's own idle timer would
// do this too, but it is re-armed at every read: cancelled, its handler run, armed again, 50 times a second
// per call. A plain handler, not a coroutine: it needs no frame of its own.
void twilio_socket::start_watchdog(std::shared_ptr<void> owner) {
  watchdog_.expires_after(state_.watch_interval());
  watchdog_.async_wait([this, owner = std::move(owner)](const boost::system::error_code& ec) mutable {
    if (ec || writer_done_) return;
    watch(std::chrono::steady_clock::now());
    start_watchdog(std::move(owner));
  });
}

void twilio_socket::watch(std::chrono::steady_clock::time_point now) {
  switch (state_.watch(now, last_heard_, write_started_)) {
    case watch_step::nothing: return;
    case watch_step::drop_for_write_timeout:
      limits_.hit("write_timeout", state_.call_sid());
      return close_socket();  // fails the write (and wakes the reader)
    case watch_step::drop_for_idle:
      limits_.hit("twilio_idle_timeout", state_.call_sid());
      return close_socket();
    case watch_step::ping:
      ping_queued_ = true;
      return queue_control(kind::ping, {});
  }
}

void twilio_socket::stop() {
  writer_done_ = true;
  watchdog_.cancel();
}

void twilio_socket::close_socket() {
  beast::error_code ignored;
  socket_.close(ignored);
}

}  // namespace voicebridge::call
