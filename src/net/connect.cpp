#include "net/connect.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
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

boost::system::error_code expect_host(SSL* ssl, const std::string& host) {
  error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  ERR_clear_error();
  bool ok = false;
  if (not_an_address) {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set_tlsext_host_name(ssl, host.c_str()) && SSL_set1_host(ssl, host.c_str());
  } else {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  }
  if (ok) return {};
  if (const auto library_error = ERR_get_error()) return {static_cast<int>(library_error), asio::error::get_ssl_category()};
  return asio::ssl::error::unexpected_result;
}

asio::awaitable<error_code> tls_client_handshake(beast::ssl_stream<beast::tcp_stream>& stream, const std::string& host,
                                                 step& failed) {
  failed = step::tls_handshake;
  if (auto ec = expect_host(stream.native_handle(), host)) co_return ec;
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (!ec) failed = step::none;
  co_return ec;
}

std::shared_ptr<asio::ssl::context> make_client_tls_context() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_default_verify_paths();  // the system store; OpenSSL honours SSL_CERT_FILE / SSL_CERT_DIR
  context->set_verify_mode(asio::ssl::verify_peer);
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);  // idle calls keep no TLS buffers
  return context;
}

}  // namespace voicebridge::net
