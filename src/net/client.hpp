// Outbound connections to the services a call uses (ElevenLabs, an LLM): resolve + connect with Nagle off,
// TLS with SNI and host name verification, and a WebSocket client over ws:// or wss:// chosen at run time.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace voicebridge::net {

// A client TLS context: peer and host name verification against the system trust store (or SSL_CERT_FILE),
// shared by every outbound connection of one kind (ElevenLabs, Twilio's REST API, the LLM).
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context();

// Where a base URL points: http(s):// or ws(s)://host[:port], TLS for https and wss.
struct service_address {
  bool tls = false;
  std::string host;
  std::string port;
};
std::optional<service_address> parse_service_url(std::string_view url);

// The reason it failed, empty on success.
boost::asio::awaitable<std::string> connect_tcp(boost::beast::tcp_stream& stream, const std::string& host,
                                                const std::string& port);
// The same for a bare socket (a WebSocket's lowest layer).
boost::asio::awaitable<std::string> connect_tcp(boost::asio::ip::tcp::socket& socket, const std::string& host,
                                                const std::string& port);
// SNI, and the certificate must name `host` (the chain is checked against the context's trust store).
boost::asio::awaitable<boost::beast::error_code> tls_client_handshake(
    boost::beast::ssl_stream<boost::beast::tcp_stream>& stream, const std::string& host);
boost::asio::awaitable<boost::beast::error_code> tls_client_handshake(
    boost::beast::ssl_stream<boost::asio::ip::tcp::socket>& stream, const std::string& host);

using header_list = std::vector<std::pair<std::string, std::string>>;

// A client WebSocket runs on the bare socket: its own timer bounds the handshake, idle reads and the close,
// and a basic_stream under it would only add two idle timers and a layer to every operation.
using plain_websocket = boost::beast::websocket::stream<boost::asio::ip::tcp::socket>;
using tls_websocket = boost::beast::websocket::stream<boost::beast::ssl_stream<boost::asio::ip::tcp::socket>>;

// The options every client WebSocket to a service gets: Beast's suggested client timeouts with our idle
// timeout, and the SDKs' 16 MiB message limit (audio chunks can be large). A client masks what it sends
// through a write buffer (4 KiB by default, per connection): 1 KiB holds a 20 ms frame of any audio format
// we send in one write; a longer message takes more writes into the same single frame, not more memory.
template <class WebSocket>
void configure_service_websocket(WebSocket& ws, std::chrono::milliseconds idle_timeout) {
  auto timeouts = boost::beast::websocket::stream_base::timeout::suggested(boost::beast::role_type::client);
  timeouts.idle_timeout = idle_timeout;
  ws.set_option(timeouts);
  ws.read_message_max(16 << 20);
  ws.auto_fragment(false);
  ws.write_buffer_bytes(1024);
}

// One WebSocket to a service. Not thread-safe: used from one call's executor. One read and one write may be
// outstanding at a time (Beast's rule); the user keeps one writer.
class ws_client {
 public:
  ws_client(const boost::asio::any_io_executor& executor, std::shared_ptr<boost::asio::ssl::context> tls);
  ~ws_client();

  struct connect_result {
    std::string error;        // empty: connected
    unsigned http_status = 0;  // a refused upgrade's status
  };
  // TCP, TLS (when the address says so), upgrade with `headers`. Unbounded: the caller races it with a deadline.
  boost::asio::awaitable<connect_result> connect(const service_address& address, const std::string& target,
                                                 const header_list& headers, std::chrono::milliseconds idle_timeout);
  boost::asio::awaitable<boost::beast::error_code> read(boost::beast::flat_buffer& buffer);
  boost::asio::awaitable<boost::beast::error_code> write(std::string_view text);
  boost::asio::awaitable<void> close(boost::beast::websocket::close_code code);
  boost::beast::websocket::close_reason reason() const;
  bool is_open() const;

 private:
  boost::asio::any_io_executor executor_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<plain_websocket> plain_;
  std::unique_ptr<tls_websocket> tls_;
};

}  // namespace voicebridge::net
