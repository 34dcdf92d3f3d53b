#include "net/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>

namespace voicebridge::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::optional<service_address> parse_service_url(std::string_view text) {
  auto url = boost::urls::parse_uri(text);
  if (!url || url->host().empty()) return std::nullopt;
  const auto scheme = url->scheme();
  service_address a;
  if (scheme == "https" || scheme == "wss") a.tls = true;
  else if (scheme != "http" && scheme != "ws") return std::nullopt;
  a.host = std::string(url->host());
  a.port = url->has_port() ? std::string(url->port()) : a.tls ? "443" : "80";
  return a;
}

asio::awaitable<std::string> connect_tcp(beast::tcp_stream& stream, const std::string& host, const std::string& port) {
  tcp::resolver resolver(stream.get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_tuple);
  if (rec) co_return "resolve: " + rec.message();
  if (auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple); cec) co_return "connect: " + cec.message();
  beast::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);  // audio frames are small
  co_return std::string();
}

asio::awaitable<std::string> connect_tcp(tcp::socket& socket, const std::string& host, const std::string& port) {
  beast::tcp_stream stream(socket.get_executor());
  auto error = co_await connect_tcp(stream, host, port);
  if (error.empty()) socket = stream.release_socket();
  co_return error;
}

namespace {
template <class NextLayer>
asio::awaitable<beast::error_code> client_handshake(beast::ssl_stream<NextLayer>& stream, const std::string& host) {
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) co_return asio::ssl::error::stream_truncated;
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  co_return ec;
}
}  // namespace

asio::awaitable<beast::error_code> tls_client_handshake(beast::ssl_stream<beast::tcp_stream>& stream, const std::string& host) {
  return client_handshake(stream, host);
}
asio::awaitable<beast::error_code> tls_client_handshake(beast::ssl_stream<tcp::socket>& stream, const std::string& host) {
  return client_handshake(stream, host);
}

ws_client::ws_client(const asio::any_io_executor& executor, std::shared_ptr<asio::ssl::context> tls)
    : executor_(executor), tls_context_(std::move(tls)) {}

ws_client::~ws_client() = default;

asio::awaitable<ws_client::connect_result> ws_client::connect(const service_address& address, const std::string& target,
                                                             const header_list& headers, std::chrono::milliseconds idle_timeout) {
  auto upgrade = [&](auto& ws) -> asio::awaitable<connect_result> {
    configure_service_websocket(ws, idle_timeout);
    ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [name, value] : headers) req.set(name, value);
    }));
    websocket::response_type res;
    const std::string host = address.host + ":" + address.port;
    auto [ec] = co_await ws.async_handshake(res, host, target, use_tuple);
    if (ec) co_return connect_result{"upgrade refused: HTTP " + std::to_string(res.result_int()), res.result_int()};
    ws.text(true);
    co_return connect_result{};
  };
  if (!address.tls) {
    plain_ = std::make_unique<plain_websocket>(executor_);
    if (auto error = co_await connect_tcp(plain_->next_layer(), address.host, address.port); !error.empty())
      co_return connect_result{error, 0};
    auto result = co_await upgrade(*plain_);
    co_return result;
  }
  if (!tls_context_) co_return connect_result{"no TLS context for a wss:// address", 0};
  tls_ = std::make_unique<tls_websocket>(executor_, *tls_context_);
  if (auto error = co_await connect_tcp(beast::get_lowest_layer(*tls_), address.host, address.port); !error.empty())
    co_return connect_result{error, 0};
  if (auto ec = co_await tls_client_handshake(tls_->next_layer(), address.host); ec)
    co_return connect_result{"TLS handshake: " + ec.message(), 0};
  auto result = co_await upgrade(*tls_);
  co_return result;
}

// (if/else, not ?: around co_await. GCC 12: docs/gcc12-coroutines.md)
asio::awaitable<beast::error_code> ws_client::read(beast::flat_buffer& buffer) {
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read(buffer, use_tuple);
    co_return ec;
  }
  auto [ec, n] = co_await plain_->async_read(buffer, use_tuple);
  co_return ec;
}

asio::awaitable<beast::error_code> ws_client::write(std::string_view text) {
  if (tls_) {
    auto [ec, n] = co_await tls_->async_write(asio::buffer(text), use_tuple);
    co_return ec;
  }
  auto [ec, n] = co_await plain_->async_write(asio::buffer(text), use_tuple);
  co_return ec;
}

// A close that fails leaves nothing to do: the socket goes with this object.
asio::awaitable<void> ws_client::close(websocket::close_code code) {
  if (!is_open()) co_return;
  if (tls_) co_await tls_->async_close(code, use_tuple);
  else co_await plain_->async_close(code, use_tuple);
}

websocket::close_reason ws_client::reason() const { return tls_ ? tls_->reason() : plain_ ? plain_->reason() : websocket::close_reason{}; }

bool ws_client::is_open() const { return tls_ ? tls_->is_open() : plain_ && plain_->is_open(); }

std::shared_ptr<asio::ssl::context> make_client_tls_context() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_default_verify_paths();  // the system store; OpenSSL honours SSL_CERT_FILE / SSL_CERT_DIR
  context->set_verify_mode(asio::ssl::verify_peer);
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);  // idle calls keep no TLS buffers
  return context;
}

}  // namespace voicebridge::net
