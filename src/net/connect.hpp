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
// SNI, and the certificate must name `host` (the chain is checked against the context's trust store).
boost::asio::awaitable<boost::system::error_code> tls_client_handshake(
    boost::beast::ssl_stream<boost::beast::tcp_stream>& stream, const std::string& host, step& failed);
boost::asio::awaitable<boost::system::error_code> tls_client_handshake(
    boost::beast::ssl_stream<boost::asio::ip::tcp::socket>& stream, const std::string& host, step& failed);

}  // namespace voicebridge::net
