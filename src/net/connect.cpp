#include "net/connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/tls_context.hpp"

namespace voicebridge::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<error_code> connect_tcp(beast::tcp_stream& stream, const std::string& host, const std::string& port,
                                        step& failed) {
  tcp::resolver resolver(stream.get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_tuple);
  if (rec) {
    failed = step::resolve;
    co_return rec;
  }
  if (auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple); cec) {
    failed = step::connect;
    co_return cec;
  }
  error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);  // audio frames are small
  co_return error_code{};
}

asio::awaitable<error_code> connect_tcp(tcp::socket& socket, const std::string& host, const std::string& port,
                                        step& failed) {
  beast::tcp_stream stream(socket.get_executor());
  const auto ec = co_await connect_tcp(stream, host, port, failed);
  if (!ec) socket = stream.release_socket();
  co_return ec;
}

namespace {
template <class NextLayer>
asio::awaitable<error_code> client_handshake(beast::ssl_stream<NextLayer>& stream, const std::string& host, step& failed) {
  failed = step::tls_handshake;
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) co_return asio::ssl::error::stream_truncated;
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (!ec) failed = step::none;
  co_return ec;
}
}  // namespace

asio::awaitable<error_code> tls_client_handshake(beast::ssl_stream<beast::tcp_stream>& stream, const std::string& host,
                                                 step& failed) {
  return client_handshake(stream, host, failed);
}
asio::awaitable<error_code> tls_client_handshake(beast::ssl_stream<tcp::socket>& stream, const std::string& host,
                                                 step& failed) {
  return client_handshake(stream, host, failed);
}

std::shared_ptr<asio::ssl::context> make_client_tls_context() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_default_verify_paths();  // the system store; OpenSSL honours SSL_CERT_FILE / SSL_CERT_DIR
  context->set_verify_mode(asio::ssl::verify_peer);
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);  // idle calls keep no TLS buffers
  return context;
}

}  // namespace voicebridge::net
