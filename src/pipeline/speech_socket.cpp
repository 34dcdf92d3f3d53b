#include "pipeline/speech_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/error.hpp>

#include "elevenlabs/conversation_end.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::pipeline {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace asio::experimental::awaitable_operators;
using app::log;
using app::log_level;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {
// Reconnections in a row: a service that accepts and drops at once must not keep the call cycling. A
// connection that lasted (STT sessions end at a time limit by design) starts the count again.
constexpr int max_reconnects = 5;
constexpr auto lasting_connection = std::chrono::seconds(60);
}  // namespace

speech_socket::speech_socket(const asio::any_io_executor& executor, speech_socket_settings settings, std::string call_sid,
                             std::function<void(std::string_view)> on_message)
    : executor_(executor),
      settings_(std::move(settings)),
      call_sid_(std::move(call_sid)),
      on_message_(std::move(on_message)),
      out_(executor, settings_.max_queued),
      lost_(executor),
      backoff_(executor) {}

asio::awaitable<boost::system::error_code> speech_socket::connect(bool& refused) {
  ws_ = std::make_unique<net::ws_client>(executor_, settings_.tls);
  // A pong or keep-alive ping owed goes with the next message; when none is queued, an empty one wakes the
  // writer to send it alone (net::ws_client::write).
  ws_->on_control_owed([this] { out_.push(std::string{}); });
  asio::steady_timer deadline(executor_);
  deadline.expires_after(settings_.connect_timeout);
  auto result = co_await (ws_->connect(settings_.address, settings_.target, settings_.headers, settings_.idle_timeout) ||
                          deadline.async_wait(use_tuple));
  if (result.index() == 1) {
    limits_.hit("speech_connect_timeout", call_sid_);
    co_return net::error::timed_out;
  }
  const auto ec = std::get<0>(result);
  if (!ec) co_return ec;
  const auto refusal = elevenlabs::refusal_of_upgrade(ws_->upgrade_status());
  refused = refusal == elevenlabs::connect_refusal::refused;
  rate_limited_ = refusal == elevenlabs::connect_refusal::rate_limited;
  co_return ec;
}

std::string speech_socket::failure(const boost::system::error_code& ec) const {
  if (ec == net::error::timed_out) return "connect timeout";
  return ws_ ? ws_->failure(ec) : ec.message();
}

asio::awaitable<socket_end> speech_socket::run(std::function<void()> on_reconnected) {
  for (int reconnects = 0;; ++reconnects) {
    lost_.expires_at(asio::steady_timer::time_point::max());
    const auto connected_at = std::chrono::steady_clock::now();
    co_await (reader() && writer());
    if (closing_) co_return socket_end::closed;
    if (std::chrono::steady_clock::now() - connected_at >= lasting_connection) reconnects = 0;
    if (permanent_ || reconnects == max_reconnects) co_return socket_end::failed;
    app::metrics().speech_reconnects.inc(settings_.name);
    log(log_level::warn, "speech socket dropped: reconnecting",
        {{"call_sid", call_sid_}, {"socket", settings_.name}, {"close_code", close_code_}});
    if (!co_await reconnect()) co_return closing_ ? socket_end::closed : socket_end::failed;
    if (on_reconnected) on_reconnected();
  }
}

asio::awaitable<bool> speech_socket::reconnect() {
  for (int attempt = 0; attempt < settings_.reconnect_attempts; ++attempt) {
    backoff_.expires_after(std::chrono::milliseconds(200) * (1 << attempt));
    co_await backoff_.async_wait(use_tuple);
    if (closing_) co_return false;
    bool refused = false;
    const auto ec = co_await connect(refused);
    if (!ec) {
      log(log_level::info, "speech socket reconnected", {{"call_sid", call_sid_}, {"socket", settings_.name}});
      co_return true;
    }
    log(log_level::warn, "speech socket reconnect failed",
        {{"call_sid", call_sid_}, {"socket", settings_.name}, {"reason", failure(ec)}, {"attempt", attempt + 1}});
    if (refused) co_return false;
  }
  co_return false;
}

void speech_socket::send(std::string text) {
  if (closing_) return;
  if (!out_.push(std::move(text))) limits_.hit("speech_queue", call_sid_);
}

void speech_socket::close() {
  if (closing_) return;
  closing_ = true;
  out_.close();
  backoff_.cancel();
}

asio::awaitable<void> speech_socket::reader() {
  std::string message;
  for (;;) {
    if (const auto ec = co_await ws_->read(message)) {
      const bool closed = ec == websocket::error::closed;
      // Our own close is a normal one whatever the read saw; otherwise the service's code (-1: no close frame).
      close_code_ = closing_ ? net::ws_normal_closure : closed ? ws_->peer_close().code : -1;
      if (!closing_)
        log(log_level::warn, "speech socket ended",
            {{"call_sid", call_sid_}, {"socket", settings_.name}, {"close_code", close_code_},
             {"reason", closed ? ws_->peer_close().reason : ec.message()}});
      break;
    }
    on_message_(message);
    ws_->reuse(std::move(message));
    message = {};
  }
  lost_.expires_at(asio::steady_timer::time_point::min());  // also a wait that starts later ends at once
}

// Ends when the queue is closed (then closes the socket with 1000) or when the reader ended.
asio::awaitable<void> speech_socket::writer() {
  for (;;) {
    auto next = co_await (out_.pop() || lost_.async_wait(use_tuple));
    if (next.index() == 1) co_return;  // the socket is gone; what is queued waits for the next one
    auto& text = std::get<0>(next);
    if (!text) {
      co_await ws_->close(net::ws_normal_closure);
      co_return;
    }
    const std::string_view message = *text;  // a named view (GCC 12: docs/gcc12-coroutines.md)
    if (auto [ec, bytes] = co_await ws_->write(message); ec) co_return;
  }
}

}  // namespace voicebridge::pipeline
