#include "common/ws_peer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace voicebridge::fake {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct ws_peer::streams {
  std::unique_ptr<websocket::stream<beast::tcp_stream>> plain;
  std::unique_ptr<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> tls;
};

namespace {
template <class WebSocket>
void configure(WebSocket& ws) {
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
}
}  // namespace

ws_peer::ws_peer(beast::tcp_stream stream) : streams_(std::make_unique<streams>()) {
  streams_->plain = std::make_unique<websocket::stream<beast::tcp_stream>>(std::move(stream));
  configure(*streams_->plain);
}

ws_peer::ws_peer(beast::ssl_stream<beast::tcp_stream> stream) : streams_(std::make_unique<streams>()) {
  streams_->tls = std::make_unique<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>(std::move(stream));
  configure(*streams_->tls);
}

ws_peer::~ws_peer() = default;

asio::any_io_executor ws_peer::get_executor() {
  return streams_->tls ? streams_->tls->get_executor() : streams_->plain->get_executor();
}

// (if/else, not ?: around co_await. GCC 12: docs/gcc12-coroutines.md)
asio::awaitable<std::tuple<error_code>> ws_peer::accept(const beast::http::request<beast::http::string_body>& upgrade) {
  if (streams_->tls) {
    auto result = co_await streams_->tls->async_accept(upgrade, use_tuple);
    co_return result;
  }
  auto result = co_await streams_->plain->async_accept(upgrade, use_tuple);
  co_return result;
}

asio::awaitable<std::tuple<error_code, std::size_t>> ws_peer::read(beast::flat_buffer& buffer) {
  if (streams_->tls) {
    auto result = co_await streams_->tls->async_read(buffer, use_tuple);
    co_return result;
  }
  auto result = co_await streams_->plain->async_read(buffer, use_tuple);
  co_return result;
}

asio::awaitable<std::tuple<error_code, std::size_t>> ws_peer::write(asio::const_buffer data) {
  if (streams_->tls) {
    auto result = co_await streams_->tls->async_write(data, use_tuple);
    co_return result;
  }
  auto result = co_await streams_->plain->async_write(data, use_tuple);
  co_return result;
}

asio::awaitable<std::tuple<error_code>> ws_peer::close(websocket::close_code code) {
  if (streams_->tls) {
    auto result = co_await streams_->tls->async_close(code, use_tuple);
    co_return result;
  }
  auto result = co_await streams_->plain->async_close(code, use_tuple);
  co_return result;
}

void ws_peer::text(bool on) {
  if (streams_->tls) streams_->tls->text(on);
  else streams_->plain->text(on);
}

websocket::close_reason ws_peer::reason() const {
  return streams_->tls ? streams_->tls->reason() : streams_->plain->reason();
}

}  // namespace voicebridge::fake
