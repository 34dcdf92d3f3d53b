#include "call/twilio_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <limits>

#include "util/recycled_text.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using app::log;
using app::log_level;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

asio::awaitable<message_read> read_twilio_message(twilio_ws& ws, beast::flat_buffer& buffer, std::size_t read_step,
                                                 std::size_t max_message, const std::function<void()>& on_oversized) {
  message_read read;
  do {  // a message in steps of read_step: async_read would make room for 1536 bytes first
    auto [ec, n] = co_await ws.async_read_some(buffer, read_step, use_tuple);
    read.ec = ec;
    // MAX_WS_MESSAGE_BYTES is enforced here rather than by Beast's read_message_max: Beast 1.81 fails such a
    // read by sending 1009 and tearing the socket down at once, and its teardown drains one read only
    // (websocket/impl/teardown.hpp keeps no count of what it read), so a peer still sending is reset and
    // sees 1006. Here the close is the writer's ordinary close handshake, which drains what the peer sends
    // until its close frame; the rest of the message is read and thrown away meanwhile.
    if (buffer.size() > max_message) {
      if (!read.oversized) on_oversized();
      read.oversized = true;
      buffer.consume(buffer.size());
    }
  } while (!read.ec && !ws.is_message_done());
  co_return read;
}

asio::awaitable<bool> accept_twilio_socket(twilio_ws& ws, const beast::http::request<beast::http::string_body>& upgrade,
                                           std::chrono::milliseconds handshake_timeout) {
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = handshake_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  ws.read_message_max(std::numeric_limits<std::size_t>::max());
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "voicebridge"); }));
  auto [ec] = co_await ws.async_accept(upgrade, use_tuple);
  if (!ec) co_return true;
  if (ec == beast::error::timeout) app::metrics().limit_hits.inc("handshake_timeout");
  log(log_level::warn, "twilio stream handshake failed", {{"error", ec.message()}});
  co_return false;
}

twilio_socket::twilio_socket(twilio_ws& ws, call_state& state, limit_log& limits, std::size_t max_queue_bytes)
    : ws_(ws),
      state_(state),
      limits_(limits),
      out_(max_queue_bytes),
      out_ready_(ws.get_executor(), asio::steady_timer::time_point::max()),
      watchdog_(ws.get_executor()),
      last_heard_(std::chrono::steady_clock::now()) {}

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

asio::awaitable<void> twilio_socket::write_loop(const std::string& stream_sid) {
  for (;;) {
    auto next = out_.take(stream_sid);
    if (!next) {
      if (no_more_writes_) break;
      out_ready_.expires_at(asio::steady_timer::time_point::max());
      co_await out_ready_.async_wait(use_tuple);
      continue;
    }
    if (next->close) {
      if (before_close_) co_await before_close_();
      const websocket::close_reason reason(static_cast<websocket::close_code>(next->close->code), next->close->reason);
      co_await ws_.async_close(reason, use_tuple);
      break;
    }
    if (next->merged_chunks) app::metrics().coalesced_audio_chunks.inc(next->merged_chunks);
    // Bounded by the watchdog, which closes the socket under a write pending too long. (Here, not in a
    // coroutine of its own: that would be a frame per frame.)
    ws_.text(true);
    write_started_ = std::chrono::steady_clock::now();
    auto [ec, n] = co_await ws_.async_write(asio::buffer(next->text), use_tuple);
    write_started_.reset();
    util::recycle_text(std::move(next->text));
    if (ec) {
      state_.on_write_failed();
      log(log_level::warn, "twilio stream write failed",
          {{"call_sid", state_.call_sid()}, {"reason", state_.write_timed_out() ? "write timeout" : ec.message()}});
      close_socket();
      break;
    }
  }
  no_more_writes_ = true;
  stop();  // ends the watchdog
}

// One timer per call watches the socket both ways (call_state::watch decides). Beast's own idle timer would
// do this too, but it is re-armed at every read: cancelled, its handler run, armed again, 50 times a second
// per call. A plain handler, not a coroutine: it needs no frame of its own.
void twilio_socket::start_watchdog(std::shared_ptr<void> owner) {
  watchdog_.expires_after(state_.watch_interval());
  watchdog_.async_wait([this, owner = std::move(owner)](const boost::system::error_code& ec) mutable {
    if (ec || writer_done_) return;
    watch(std::chrono::steady_clock::now(), owner);
    start_watchdog(std::move(owner));
  });
}

void twilio_socket::watch(std::chrono::steady_clock::time_point now, const std::shared_ptr<void>& owner) {
  switch (state_.watch(now, last_heard_, write_started_)) {
    case watch_step::nothing: return;
    case watch_step::drop_for_write_timeout:
      limits_.hit("write_timeout", state_.call_sid());
      return close_socket();  // fails the write (and wakes the reader)
    case watch_step::drop_for_idle:
      limits_.hit("twilio_idle_timeout", state_.call_sid());
      return close_socket();
    case watch_step::ping:
      ws_.async_ping({}, [this, owner](const beast::error_code&) { state_.on_pong_or_ping_done(); });
      return;
  }
}

void twilio_socket::stop() {
  writer_done_ = true;
  watchdog_.cancel();
}

void twilio_socket::close_socket() {
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).close(ignored);
}

}  // namespace voicebridge::call
