// The first steps of every outbound connection, for ws_client and http_client: resolve + connect with
// Nagle off, then TLS with SNI and host name verification. Each says the step it failed in.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <string>

#include "net/error.hpp"

namespace voicebridge::net {

// Unbounded on a bare socket (the caller races it with a deadline); a tcp_stream's own expiry bounds it.
boost::asio::awaitable<boost::system::error_code> connect_tcp(boost::beast::tcp_stream& stream, const std::string& host,
                                                              const std::string& port, step& failed);
boost::asio::awaitable<boost::system::error_code> connect_tcp(boost::asio::ip::tcp::socket& socket,
                                                              const std::string& host, const std::string& port,
                                                              step& failed);
// Before a client's TLS handshake: SNI (a DNS name only, RFC 6066 section 3), and the name the server's
// certificate must carry (a DNS name, or an IP address in its subjectAltName), which OpenSSL checks with the
// chain against the context's trust store. For every TLS client here: net::tls_stream's and Asio's.
boost::system::error_code expect_host(SSL* ssl, const std::string& host);
// expect_host, then the handshake.
boost::asio::awaitable<boost::system::error_code> tls_client_handshake(
    boost::beast::ssl_stream<boost::beast::tcp_stream>& stream, const std::string& host, step& failed);

}  // namespace voicebridge::net
