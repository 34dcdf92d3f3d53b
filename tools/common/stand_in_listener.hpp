// What every local stand-in (agent, speech, LLM, Twilio's REST API) does before it speaks its protocol:
// listen on a loopback port, accept, and with a certificate complete a TLS handshake; then hand the stream
// (a beast::tcp_stream, or a beast::ssl_stream over one) to the stand-in's own `serve`.
#pragma once
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "common/report_escape.hpp"

namespace voicebridge::fake {

struct stand_in_listener {
  boost::asio::ip::tcp::acceptor acceptor;
  std::unique_ptr<boost::asio::ssl::context> tls;  // set: https/wss

  stand_in_listener(boost::asio::io_context& io, std::uint16_t port, const std::string& certificate_chain = {},
                    const std::string& private_key = {})
      : acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), port}) {
    if (certificate_chain.empty()) return;
    tls = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    tls->use_certificate_chain_file(certificate_chain);
    tls->use_private_key_file(private_key, boost::asio::ssl::context::pem);
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  void close() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
};

namespace detail {

using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// `keep` is only held: the stand-in's state outlives the connection.
template <class Keep, class Serve>
boost::asio::awaitable<void> stand_in_connection(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls,
                                                 [[maybe_unused]] std::shared_ptr<Keep> keep, Serve serve) {
  constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  boost::beast::tcp_stream tcp(std::move(socket));
  tcp.expires_after(std::chrono::seconds(10));  // until the stand-in takes over its timeouts
  if constexpr (std::is_invocable_v<Serve&, tls_stream>) {  // a stand-in that can speak TLS
    if (tls) {
      tls_stream stream(std::move(tcp), *tls);
      if (auto [ec] = co_await stream.async_handshake(boost::asio::ssl::stream_base::server, use_tuple); ec) co_return;
      co_await serve(std::move(stream));
      co_return;
    }
  }
  co_await serve(std::move(tcp));
}

}  // namespace detail

// The end of an HTTP answer on either kind of stream: half-close a plain one, close TLS with close_notify.
template <class Stream>
boost::asio::awaitable<void> finish_http_stream(Stream& stream) {
  if constexpr (std::is_same_v<Stream, boost::beast::tcp_stream>) {
    boost::system::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  } else {
    co_await stream.async_shutdown(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

// Accepts until the listener is closed; each connection runs `serve(stream)` on its own. `keep` (the
// stand-in's state, which owns the listener) stays alive while any connection runs: tests may drop the
// stand-in in the middle of a call.
template <class Keep, class Serve>
boost::asio::awaitable<void> accept_connections(std::shared_ptr<Keep> keep, stand_in_listener& listener, Serve serve) {
  constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  for (;;) {
    auto [ec, socket] = co_await listener.acceptor.async_accept(use_tuple);
    if (ec) co_return;
    boost::system::error_code ignored;
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);  // as the real services: small messages go at once
    boost::asio::co_spawn(listener.acceptor.get_executor(),
                          detail::stand_in_connection(std::move(socket), listener.tls.get(), keep, serve),
                          voicebridge::tools::report_escape("stand-in connection"));
  }
}

}  // namespace voicebridge::fake
