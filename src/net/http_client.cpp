#include "net/http_client.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "net/connect.hpp"

namespace voicebridge::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct http_client::connection {
  explicit connection(const asio::any_io_executor& executor) : tcp(executor) {}
  beast::tcp_stream tcp;                                   // until TLS takes it over
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;  // https
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : tcp; }
};

namespace {

http::request<http::string_body> to_beast(const service_address& address, const http_request& r) {
  http::request<http::string_body> req{r.verb == http_request::method::post ? http::verb::post : http::verb::get,
                                       r.target, 11};
  // RFC 9110, section 7.2: the port belongs in Host unless it is the scheme's default.
  const bool default_port = address.port == (address.tls ? "443" : "80");
  req.set(http::field::host, default_port ? address.host : address.host + ":" + address.port);
  req.set(http::field::user_agent, "voicebridge");
  for (const auto& [name, value] : r.headers) req.set(name, value);
  if (!r.content_type.empty()) req.set(http::field::content_type, r.content_type);
  req.body() = r.body;
  req.prepare_payload();
  return req;
}

template <class Stream>
asio::awaitable<error_code> exchange_head(Stream& stream, http::request<http::string_body>& req, beast::flat_buffer& buffer,
                                          http::response_parser<http::buffer_body>& parser, step& failed) {
  if (auto [ec, n] = co_await http::async_write(stream, req, use_tuple); ec) {
    failed = step::send;
    co_return ec;
  }
  if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple); ec) {
    failed = step::read;
    co_return ec;
  }
  co_return error_code{};
}

template <class Stream>
asio::awaitable<error_code> read_piece(Stream& stream, beast::flat_buffer& buffer,
                                       http::response_parser<http::buffer_body>& parser, std::span<char> chunk,
                                       std::size_t& got) {
  parser.get().body().data = chunk.data();
  parser.get().body().size = chunk.size();
  auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, use_tuple);
  got = chunk.size() - parser.get().body().size;
  if (ec == http::error::need_buffer) ec = {};
  if (ec == http::error::body_limit) ec = error::response_too_large;
  co_return ec;
}

}  // namespace

http_client::http_client(const asio::any_io_executor& executor, std::shared_ptr<asio::ssl::context> tls)
    : connection_(std::make_unique<connection>(executor)), tls_context_(std::move(tls)) {}

http_client::~http_client() = default;

asio::awaitable<error_code> http_client::send(const service_address& address, const http_request& request,
                                              std::chrono::milliseconds timeout, std::size_t body_limit) {
  auto& c = *connection_;
  failed_ = step::none;
  c.parser.body_limit(body_limit);
  c.tcp.expires_after(timeout);  // one deadline for connect, TLS, the request and the headers
  if (address.tls && !tls_context_) co_return error::no_tls_context;
  if (auto ec = co_await connect_tcp(c.tcp, address.host, address.port, failed_)) co_return ec;
  auto req = to_beast(address, request);
  if (!address.tls) {
    const auto ec = co_await exchange_head(c.tcp, req, c.buffer, c.parser, failed_);
    co_return ec;
  }
  c.tls.emplace(std::move(c.tcp), *tls_context_);
  if (auto ec = co_await tls_client_handshake(*c.tls, address.host, failed_)) co_return ec;
  const auto ec = co_await exchange_head(*c.tls, req, c.buffer, c.parser, failed_);
  co_return ec;
}

unsigned http_client::status() const { return connection_->parser.get().result_int(); }

std::string http_client::header(std::string_view name) const { return std::string(connection_->parser.get()[name]); }

bool http_client::done() const { return connection_->parser.is_done(); }

asio::awaitable<error_code> http_client::read_some(std::span<char> chunk, std::size_t& got,
                                                   std::chrono::milliseconds timeout) {
  auto& c = *connection_;
  got = 0;
  if (c.parser.is_done()) co_return error_code{};
  c.lowest().expires_after(timeout);
  error_code ec;
  if (c.tls) ec = co_await read_piece(*c.tls, c.buffer, c.parser, chunk, got);
  else ec = co_await read_piece(c.tcp, c.buffer, c.parser, chunk, got);
  if (ec) failed_ = step::read;
  co_return ec;
}

asio::awaitable<error_code> http_client::read_body(std::string& body, std::chrono::milliseconds timeout) {
  std::array<char, 4096> storage;
  const std::span<char> chunk(storage);  // a named span (GCC 12: docs/gcc12-coroutines.md)
  while (!done()) {
    std::size_t got = 0;
    if (auto ec = co_await read_some(chunk, got, timeout)) co_return ec;
    body.append(chunk.data(), got);
  }
  co_return error_code{};
}

}  // namespace voicebridge::net
