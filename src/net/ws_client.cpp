#include "net/ws_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>

#include "net/connect.hpp"
#include "net/tls_stream.hpp"

namespace voicebridge::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A client WebSocket runs on the bare socket: its own timer bounds the handshake, idle reads and the close,
// and a basic_stream under it would only add two idle timers and a layer to every operation. Over TLS, on
// net::tls_stream: a few KiB per call where Asio's ssl::stream keeps ~70.
using plain_websocket = websocket::stream<tcp::socket>;
using tls_websocket = websocket::stream<tls_stream>;

struct ws_client::streams {
  std::unique_ptr<plain_websocket> plain;
  std::unique_ptr<tls_websocket> tls;
};

namespace {

// The options every client WebSocket to a service gets: Beast's suggested client timeouts with our idle
// timeout, and the SDKs' 16 MiB message limit (audio chunks can be large). A client masks what it sends
// through a write buffer (4 KiB by default, per connection): 1 KiB holds a 20 ms frame of any audio format
// we send in one write; a longer message takes more writes into the same single frame, not more memory.
template <class WebSocket>
void configure(WebSocket& ws, std::chrono::milliseconds idle_timeout, const header_list& headers) {
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
  timeouts.idle_timeout = idle_timeout.count() > 0 ? websocket::stream_base::duration(idle_timeout) : websocket::stream_base::none();
  ws.set_option(timeouts);
  ws.read_message_max(16 << 20);
  ws.auto_fragment(false);
  ws.write_buffer_bytes(1024);
  ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [name, value] : headers) req.set(name, value);
  }));
}

template <class WebSocket>
asio::awaitable<error_code> upgrade(WebSocket& ws, const service_address& address, const std::string& target,
                                    unsigned& status) {
  websocket::response_type res;
  const std::string host = address.host + ":" + address.port;
  auto [ec] = co_await ws.async_handshake(res, host, target, use_tuple);
  if (ec) {
    status = res.result_int();
    co_return status ? error_code(error::upgrade_refused) : ec;
  }
  ws.text(true);
  co_return error_code{};
}

}  // namespace

ws_client::ws_client(const asio::any_io_executor& executor, std::shared_ptr<asio::ssl::context> tls)
    : executor_(executor), tls_context_(std::move(tls)), streams_(std::make_unique<streams>()) {}

ws_client::~ws_client() = default;

asio::awaitable<error_code> ws_client::connect(const service_address& address, const std::string& target,
                                               const header_list& headers, std::chrono::milliseconds idle_timeout) {
  failed_ = step::none;
  upgrade_status_ = 0;
  if (!address.tls) {
    streams_->plain = std::make_unique<plain_websocket>(executor_);
    if (auto ec = co_await connect_tcp(streams_->plain->next_layer(), address.host, address.port, failed_)) co_return ec;
    configure(*streams_->plain, idle_timeout, headers);
    failed_ = step::upgrade;
    const auto ec = co_await upgrade(*streams_->plain, address, target, upgrade_status_);
    if (!ec) failed_ = step::none;
    co_return ec;
  }
  if (!tls_context_) co_return error::no_tls_context;
  streams_->tls = std::make_unique<tls_websocket>(executor_, tls_context_->native_handle());
  auto& ws = *streams_->tls;
  if (auto ec = co_await connect_tcp(beast::get_lowest_layer(ws), address.host, address.port, failed_)) co_return ec;
  failed_ = step::tls_handshake;
  if (auto ec = expect_host(ws.next_layer().native_handle(), address.host)) co_return ec;
  if (auto [ec, ignored] = co_await ws.next_layer().async_handshake(use_tuple); ec) co_return ec;
  configure(ws, idle_timeout, headers);
  failed_ = step::upgrade;
  const auto ec = co_await upgrade(ws, address, target, upgrade_status_);
  if (!ec) failed_ = step::none;
  co_return ec;
}

std::string ws_client::failure(const error_code& ec) const {
  if (ec == error::upgrade_refused) return "upgrade refused: HTTP " + std::to_string(upgrade_status_);
  return describe(failed_, ec);
}

asio::awaitable<ws_client::result> ws_client::read_some(beast::flat_buffer& buffer, std::size_t max_bytes) {
  if (streams_->tls) return streams_->tls->async_read_some(buffer, max_bytes, use_tuple);
  return streams_->plain->async_read_some(buffer, max_bytes, use_tuple);
}

bool ws_client::is_message_done() const {
  return streams_->tls ? streams_->tls->is_message_done() : streams_->plain->is_message_done();
}

asio::awaitable<ws_client::result> ws_client::read(beast::flat_buffer& buffer) {
  if (streams_->tls) return streams_->tls->async_read(buffer, use_tuple);
  return streams_->plain->async_read(buffer, use_tuple);
}

asio::awaitable<ws_client::result> ws_client::write(std::string_view text) {
  if (streams_->tls) return streams_->tls->async_write(asio::buffer(text), use_tuple);
  return streams_->plain->async_write(asio::buffer(text), use_tuple);
}

asio::awaitable<void> ws_client::close(websocket::close_code code) {
  if (!is_open()) co_return;
  if (streams_->tls) co_await streams_->tls->async_close(code, use_tuple);
  else co_await streams_->plain->async_close(code, use_tuple);
}

websocket::close_reason ws_client::reason() const {
  if (streams_->tls) return streams_->tls->reason();
  if (streams_->plain) return streams_->plain->reason();
  return {};
}

void ws_client::drop() {
  error_code ignored;
  if (streams_->tls) beast::get_lowest_layer(*streams_->tls).close(ignored);
  if (streams_->plain) beast::get_lowest_layer(*streams_->plain).close(ignored);
}

bool ws_client::is_open() const {
  if (streams_->tls) return streams_->tls->is_open();
  return streams_->plain && streams_->plain->is_open();
}

}  // namespace voicebridge::net
