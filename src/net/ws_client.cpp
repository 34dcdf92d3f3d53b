#include "net/ws_client.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/error.hpp>
#include <stdexcept>

#include "net/connect.hpp"
#include "net/tls_stream.hpp"
#include "net/ws_upgrade.hpp"

namespace voicebridge::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using kind = ws_message::kind;
using std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// The SDKs' message limit: audio chunks can be large.
constexpr std::size_t max_message = 16 << 20;
// A buffer grown past this (a long audio chunk, a large tool call) is given back after it: what a call keeps
// between messages is what a typical message needs.
constexpr std::size_t kept_buffer = 16 * 1024;
// Pongs owed past this (a ping flood) are not sent: a pong may answer only the latest ping (RFC 6455, 5.5.3).
constexpr std::size_t max_controls = 1024;
// The answer to the upgrade: a status line and a few headers.
constexpr std::uint32_t max_upgrade_answer = 16 * 1024;

// A mask key per frame (RFC 6455, section 5.3: "derived from a strong source of entropy", unpredictable for
// each frame), from OpenSSL's generator in batches per thread: a frame costs a load, not a call into OpenSSL.
std::uint32_t next_mask_key() {
  thread_local std::array<std::uint32_t, 64> batch;
  thread_local std::size_t next = batch.size();
  if (next == batch.size()) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(batch.data()), sizeof batch) != 1)
      throw std::runtime_error("RAND_bytes failed");
    next = 0;
  }
  return batch[next++];
}

// The opening handshake (RFC 6455, section 4.1) by Beast's HTTP: the request, then the answer's header only.
// Whatever the service sent after it (its first frames may come in the same segment) is handed back in
// `leftover`: the frames' bytes start there.
template <class Stream>
asio::awaitable<error_code> upgrade(Stream& stream, const service_address& address, const std::string& target,
                                    const header_list& headers, unsigned& refused_status, std::string& leftover) {
  const std::string key = make_ws_key();
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, address.host + ":" + address.port);
  request.set(http::field::upgrade, "websocket");
  request.set(http::field::connection, "Upgrade");
  request.set(http::field::sec_websocket_key, key);
  request.set(http::field::sec_websocket_version, "13");
  request.set(http::field::user_agent, "voicebridge");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (auto [ec, n] = co_await http::async_write(stream, request, use_tuple); ec) co_return ec;

  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.header_limit(max_upgrade_answer);
  if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple); ec) co_return ec;
  const auto& answer = parser.get();
  const ws_upgrade_answer seen{answer.result_int(), answer[http::field::upgrade], answer[http::field::connection],
                               answer[http::field::sec_websocket_accept]};
  if (auto ec = check_ws_upgrade_answer(seen, key)) {
    if (ec != websocket::error::upgrade_declined) co_return ec;
    refused_status = answer.result_int();
    co_return error::upgrade_refused;
  }
  leftover = beast::buffers_to_string(buffer.data());
  co_return error_code{};
}

}  // namespace

struct ws_client::transport {
  explicit transport(const asio::any_io_executor& executor)
      : close_wait(executor), close_guard(executor), keepalive(executor) {}
  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
  // One operation on whichever stream this is: both give the same result type.
  template <class Operation>
  auto with(Operation&& operation) {
    return tls ? operation(*tls) : operation(*plain);
  }

  std::optional<tcp::socket> plain;
  std::optional<tls_stream> tls;  // net::tls_stream: a few KiB per call where Asio's ssl::stream keeps ~70
  asio::steady_timer close_wait;   // close(): woken when the service's close frame came or the reading ended
  asio::steady_timer close_guard;  // close(): drops the socket past close_wait
  asio::steady_timer keepalive;   // connect()'s idle_timeout, when there is one
  bool reading_ended = false;
};

ws_inbox ws_client::new_inbox() { return {ws_role::client, max_message, ws_oversized::fail, kept_buffer}; }

ws_client::ws_client(const asio::any_io_executor& executor, std::shared_ptr<asio::ssl::context> tls)
    : executor_(executor), tls_context_(std::move(tls)), inbox_(new_inbox()) {}

ws_client::~ws_client() { alive_.reset(); }

asio::awaitable<error_code> ws_client::connect(const service_address& address, const std::string& target,
                                               const header_list& headers, std::chrono::milliseconds idle_timeout) {
  failed_ = step::none;
  upgrade_status_ = 0;
  alive_.reset();
  transport_ = std::make_unique<transport>(executor_);
  inbox_ = new_inbox();
  closing_ = {};
  close_queued_ = false;
  peer_close_ = {};
  ready_.clear();
  ready_next_ = 0;
  controls_.clear();

  auto& t = *transport_;
  if (address.tls) {
    if (!tls_context_) co_return error::no_tls_context;
    t.tls.emplace(executor_, tls_context_->native_handle());
  } else {
    t.plain.emplace(executor_);
  }
  if (auto ec = co_await connect_tcp(t.socket(), address.host, address.port, failed_)) co_return ec;
  if (t.tls) {
    failed_ = step::tls_handshake;
    if (auto ec = expect_host(t.tls->native_handle(), address.host)) co_return ec;
    if (auto [ec, ignored] = co_await t.tls->async_handshake(use_tuple); ec) co_return ec;
  }
  failed_ = step::upgrade;
  std::string leftover;
  error_code ec;
  if (t.tls) ec = co_await upgrade(*t.tls, address, target, headers, upgrade_status_, leftover);
  else ec = co_await upgrade(*t.plain, address, target, headers, upgrade_status_, leftover);
  if (ec) co_return ec;
  failed_ = step::none;
  inbox_.start_with(std::move(leftover));
  alive_ = std::make_shared<ws_client*>(this);
  keepalive_ = {};
  if (idle_timeout.count() > 0) start_keepalive(idle_timeout);
  co_return error_code{};
}

std::string ws_client::failure(const error_code& ec) const {
  if (ec == error::upgrade_refused) return "upgrade refused: HTTP " + std::to_string(upgrade_status_);
  return describe(failed_, ec);
}

// --- reading ---

std::optional<error_code> ws_client::parse(std::vector<ws_message>& messages) {
  messages.clear();
  for (; ready_next_ < ready_.size(); ++ready_next_) messages.push_back(std::move(ready_[ready_next_]));
  ready_.clear();
  ready_next_ = 0;
  if (!closing_.peer_closed() && !inbox_.failure()) {
    const std::size_t first = messages.size();
    inbox_.read(messages);
    // Control frames are answered here, in the order they came; the data messages stay, in theirs. Nothing
    // after the service's close frame counts (section 5.5.1).
    std::size_t kept = first;
    for (std::size_t i = first; i < messages.size(); ++i) {
      auto& m = messages[i];
      if (closing_.peer_closed()) break;
      if (m.what == kind::text || m.what == kind::binary) {
        if (i != kept) messages[kept] = std::move(m);
        ++kept;
      } else if (m.what == kind::ping) {
        queue_control(kind::pong, m.payload);  // section 5.5.2: the same payload
      } else if (m.what == kind::close) {
        peer_close_ = {m.close_code, std::move(m.payload)};
        // Answered with its code, unless ours went first (section 5.5.1); close() waits for this.
        if (closing_.on_peer_close(close_queued_)) queue_control(kind::close, {}, m.close_code);
        transport_->close_wait.cancel();
      }
    }
    messages.resize(kept);
  }
  if (inbox_.failure()) {
    // Failing the connection (section 7.1.7): nothing after the bad frame can be read, so no close
    // handshake can finish; the socket goes now.
    closing_.on_read_failed();
    drop();
    return error::ws_protocol_error;
  }
  if (closing_.peer_closed()) return websocket::error::closed;
  return std::nullopt;
}

asio::awaitable<ws_client::result> ws_client::read_more() {
  const auto room = inbox_.space();
  const auto space = asio::buffer(room.data(), room.size());
  return transport_->with([&space](auto& stream) { return stream.async_read_some(space, use_tuple); });
}

void ws_client::received(const error_code& ec, std::size_t n) {
  if (ec) {
    transport_->reading_ended = true;
    transport_->close_wait.cancel();
    return;
  }
  inbox_.received(n);
  keepalive_.heard();
}

asio::awaitable<error_code> ws_client::read(std::string& message) {
  for (;;) {
    if (ready_next_ < ready_.size()) {
      message = std::move(ready_[ready_next_++].payload);
      co_return error_code{};
    }
    std::vector<ws_message> got;
    const auto end = parse(got);
    if (!got.empty()) {
      ready_ = std::move(got);  // handed out first; the end (if any) comes again at the next parse()
      ready_next_ = 0;
      continue;
    }
    if (end) co_return *end;
    auto [ec, n] = co_await read_more();
    received(ec, n);
    if (ec) co_return ec;
  }
}

// --- writing ---

void ws_client::queue_control(kind what, std::string_view payload, std::uint16_t code) {
  if (close_queued_) return;  // nothing follows a close frame (section 5.5.1)
  if (what != kind::close && controls_.size() > max_controls) return;
  append_frame(controls_, what, payload, ws_fragment::whole, next_mask_key(), code);
  if (what == kind::close) close_queued_ = true;
  if (wake_writer_) wake_writer_();
}

asio::awaitable<ws_client::result> ws_client::write(std::string_view text) {
  if (wire_.capacity() > kept_buffer) wire_ = {};  // the last write's big message: not kept for every call
  wire_.swap(controls_);
  controls_.clear();
  if (!text.empty() && !close_queued_) append_frame(wire_, kind::text, text, ws_fragment::whole, next_mask_key());
  return transport_->with([this](auto& stream) { return asio::async_write(stream, asio::buffer(wire_), use_tuple); });
}

// Bounded as a whole by a guard that drops the socket past close_wait (failing whatever is pending then): our
// close frame's write, the wait for the service's, and the teardown.
asio::awaitable<void> ws_client::close(std::uint16_t code) {
  if (!is_open()) co_return;
  auto& t = *transport_;
  const auto give_up = steady_clock::now() + close_wait;
  t.close_guard.expires_at(give_up);
  t.close_guard.async_wait([alive = std::weak_ptr(alive_)](const error_code& ec) {
    if (const auto self = alive.lock(); self && !ec) (*self)->drop();
  });
  queue_control(kind::close, {}, code);  // none when the answer to the service's is queued already
  auto [ec, n] = co_await write({});
  while (!ec && !closing_.peer_closed() && !t.reading_ended && steady_clock::now() < give_up) {
    t.close_wait.expires_at(give_up);
    co_await t.close_wait.async_wait(use_tuple);
  }
  // The reader stops at the service's close frame: the socket's reading side is free for the teardown.
  if (!ec && closing_.peer_closed() && is_open()) co_await tear_down();
  t.close_guard.cancel();
  drop();
}

// After the close handshake, as Beast's client teardown does: TLS's close_notify (The Transport Layer Security
// Protocol Version 1.3, RFC 8446, section 6.1), then read to the end, for the server closes TCP first (RFC 6455,
// section 7.1.1).
asio::awaitable<void> ws_client::tear_down() {
  auto& t = *transport_;
  if (t.tls) {
    if (auto [ec, n] = co_await t.tls->async_shutdown(use_tuple); ec) co_return;
  } else {
    error_code ignored;
    t.plain->shutdown(tcp::socket::shutdown_send, ignored);
  }
  std::array<char, 256> sink;
  const auto space = asio::buffer(sink);
  for (;;) {
    auto [ec, n] = co_await t.with([&space](auto& stream) { return stream.async_read_some(space, use_tuple); });
    if (ec) co_return;
  }
}

// --- the socket ---

// The keep-alive (net/ws_keepalive.hpp) on one timer per connection, ticking at half the idle timeout. The
// handler looks through `alive_`, gone with this object.
void ws_client::start_keepalive(std::chrono::milliseconds idle_timeout) {
  transport_->keepalive.expires_after(idle_timeout / 2);
  transport_->keepalive.async_wait([alive = std::weak_ptr(alive_), idle_timeout](const error_code& ec) {
    const auto self = alive.lock();
    if (ec || !self) return;
    ws_client& client = **self;
    switch (client.keepalive_.tick()) {
      case ws_keepalive::action::nothing: break;
      case ws_keepalive::action::ping: client.queue_control(kind::ping, {}); break;
      case ws_keepalive::action::drop: return client.drop();
    }
    client.start_keepalive(idle_timeout);
  });
}

void ws_client::drop() {
  if (!transport_) return;
  error_code ignored;
  transport_->socket().close(ignored);
  transport_->keepalive.cancel();
  transport_->close_wait.cancel();
}

bool ws_client::is_open() const { return transport_ && transport_->socket().is_open(); }

}  // namespace voicebridge::net
