// The server side of a stand-in's WebSocket (the fake agent, the fake speech services), over a plain or a TLS
// stream, with the part of Beast's websocket::stream interface the stand-ins use. Beast's WebSocket templates
// are instantiated once, in ws_peer.cpp, instead of once per stand-in and stream type: on two cores that was
// minutes of every build.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cstddef>
#include <memory>
#include <tuple>

namespace voicebridge::fake {

class ws_peer {
 public:
  using error_code = boost::system::error_code;
  // Beast's suggested server timeouts (its own pings, a bounded close).
  explicit ws_peer(boost::beast::tcp_stream stream);
  explicit ws_peer(boost::beast::ssl_stream<boost::beast::tcp_stream> stream);
  ~ws_peer();
  ws_peer(const ws_peer&) = delete;
  ws_peer& operator=(const ws_peer&) = delete;

  boost::asio::any_io_executor get_executor();
  // As Beast's, with any completion token written at the call (the stand-ins write use_tuple): the result is a
  // tuple of the error code (and the bytes).
  template <class Token>
  boost::asio::awaitable<std::tuple<error_code>> async_accept(
      const boost::beast::http::request<boost::beast::http::string_body>& upgrade, Token) {
    return accept(upgrade);
  }
  template <class Token>
  boost::asio::awaitable<std::tuple<error_code, std::size_t>> async_read(boost::beast::flat_buffer& buffer, Token) {
    return read(buffer);
  }
  template <class Token>
  boost::asio::awaitable<std::tuple<error_code, std::size_t>> async_write(boost::asio::const_buffer data, Token) {
    return write(data);
  }
  template <class Token>
  boost::asio::awaitable<std::tuple<error_code>> async_close(boost::beast::websocket::close_code code, Token) {
    return close(code);
  }
  void text(bool on);
  boost::beast::websocket::close_reason reason() const;

 private:
  boost::asio::awaitable<std::tuple<error_code>> accept(
      const boost::beast::http::request<boost::beast::http::string_body>& upgrade);
  boost::asio::awaitable<std::tuple<error_code, std::size_t>> read(boost::beast::flat_buffer& buffer);
  boost::asio::awaitable<std::tuple<error_code, std::size_t>> write(boost::asio::const_buffer data);
  boost::asio::awaitable<std::tuple<error_code>> close(boost::beast::websocket::close_code code);

  struct streams;
  std::unique_ptr<streams> streams_;
};

}  // namespace voicebridge::fake
