// TLS over a TCP socket as an Asio AsyncStream, on net::tls_engine: what the agents' WebSockets
// (net::ws_client) run on for wss:// (instead of Asio's ssl::stream, which keeps ~70 KiB of buffers per
// connection; see tls_engine.hpp). Beast's websocket::stream runs on it too (async_teardown below): its test
// drives it that way, against Asio's ssl::stream (tests/integration/tls_stream_test.cpp).
//
// Operations follow Asio's ssl::stream: one read and one write may be outstanding at once, besides the
// handshake and the shutdown, which run alone. Reading the socket is the reader's and writing it the writer's,
// but a TLS read may have something to send (an alert; OpenSSL answers a key update with the next write) and a
// write may find a reader's output still on its way: an operation that needs the side of the socket another
// holds waits for it (on a timer armed only then), so the socket never has two reads or two writes in flight.
//
// Include from .cpp files only: it brings Asio's composition machinery.
#pragma once
#include <boost/asio/append.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include "net/tls_engine.hpp"

namespace voicebridge::net {

class tls_stream {
 public:
  using next_layer_type = boost::asio::ip::tcp::socket;
  using executor_type = next_layer_type::executor_type;

  tls_stream(const executor_type& executor, SSL_CTX* context, tls_engine::role r = tls_engine::role::client)
      : socket_(executor), engine_(context, r), transport_free_(executor) {}
  tls_stream(next_layer_type socket, SSL_CTX* context, tls_engine::role r)
      : socket_(std::move(socket)), engine_(context, r), transport_free_(socket_.get_executor()) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  next_layer_type& next_layer() { return socket_; }
  const tls_engine& engine() const { return engine_; }
  // For the client's server name before the handshake (net::expect_host).
  SSL* native_handle() { return engine_.native_handle(); }

  template <class Token>
  auto async_handshake(Token&& token) {
    return run(handshake_operation{}, std::forward<Token>(token));
  }
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return run(read_operation{first_of(buffers)}, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    write_operation write;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (write.count == write.pieces.size()) break;
      if (boost::asio::const_buffer piece(*it); piece.size()) write.pieces[write.count++] = piece;
    }
    return run(write, std::forward<Token>(token));
  }
  // Sends close_notify; does not wait for the peer's (reading the socket to its end does that).
  template <class Token>
  auto async_shutdown(Token&& token) {
    return run(shutdown_operation{}, std::forward<Token>(token));
  }

 private:
  using error_code = boost::system::error_code;
  using step = tls_engine::step;

  // `output_may_trail`: an operation whose result does not depend on its output being sent (a read's alert)
  // finishes while another operation holds the socket's sending side; that one sends what is queued after
  // its own, so a reader never waits on a writer stalled by a slow peer.
  struct handshake_operation {
    static constexpr bool output_may_trail = false;
    step operator()(tls_engine& engine) const { return engine.handshake(); }
    bool empty() const { return false; }
    error_code at_end(const tls_engine& engine) const { return engine.end_of_stream(); }
  };
  struct read_operation {
    static constexpr bool output_may_trail = true;
    boost::asio::mutable_buffer into;
    step operator()(tls_engine& engine) const { return engine.read(into); }
    bool empty() const { return into.size() == 0; }
    error_code at_end(const tls_engine& engine) const { return engine.end_of_stream(); }
  };
  struct write_operation {
    static constexpr bool output_may_trail = false;  // a writer waits for the wire: that is its backpressure
    std::array<boost::asio::const_buffer, 4> pieces{};  // gathered into one record; more wait for the next write
    std::size_t count = 0;
    step operator()(tls_engine& engine) const { return engine.write(std::span(pieces.data(), count)); }
    bool empty() const { return count == 0; }
    error_code at_end(const tls_engine&) const { return boost::asio::error::eof; }
  };
  struct shutdown_operation {
    static constexpr bool output_may_trail = false;
    step operator()(tls_engine& engine) const { return engine.shutdown(); }
    bool empty() const { return false; }
    error_code at_end(const tls_engine&) const { return {}; }  // the peer closed first: nothing left to say
  };

  template <class MutableBuffers>
  static boost::asio::mutable_buffer first_of(const MutableBuffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
      if (boost::asio::mutable_buffer b(*it); b.size()) return b;
    return {};
  }

  // One operation's loop: call the engine, and do what it wants of the socket, until it is done.
  template <class Operation>
  struct io_op {
    tls_stream& stream;
    Operation operation;
    enum class need { call, send, send_then_finish, receive } next = need::call;
    enum class awaiting { nothing, posted, socket_read, socket_write, turn } at = awaiting::nothing;
    step result{};

    template <class Self>
    void operator()(Self& self, error_code ec = {}, std::size_t bytes = 0) {
      tls_engine& engine = stream.engine_;
      switch (std::exchange(at, awaiting::nothing)) {
        case awaiting::nothing:
          if (operation.empty()) {  // nothing to do, but never done inside the initiating call (Asio's rule)
            at = awaiting::posted;
            return boost::asio::post(stream.get_executor(), boost::asio::append(std::move(self), error_code{}, 0));
          }
          break;
        case awaiting::posted: return self.complete(error_code{}, 0);
        case awaiting::socket_read:
          stream.reading_ = false;
          stream.wake_waiters();
          if (ec == boost::asio::error::eof) return self.complete(operation.at_end(engine), 0);
          if (ec) return self.complete(ec, 0);
          engine.received(bytes);
          next = need::call;
          break;
        case awaiting::socket_write:
          stream.writing_ = false;
          stream.wake_waiters();
          if (ec) return self.complete(ec, 0);
          engine.sent(bytes);
          break;
        case awaiting::turn:
          --stream.waiters_;
          if (self.cancelled() != boost::asio::cancellation_type::none)
            return self.complete(boost::asio::error::operation_aborted, 0);
          break;
      }
      for (;;) {
        switch (next) {
          case need::call:
            result = operation(engine);
            switch (result.next) {
              case tls_engine::want::nothing: return self.complete(result.ec, result.bytes);
              case tls_engine::want::output: next = need::send_then_finish; break;
              case tls_engine::want::output_and_retry: next = need::send; break;
              case tls_engine::want::input_and_retry: next = need::receive; break;
            }
            break;
          case need::send:
          case need::send_then_finish:
            if (!engine.has_output()) {  // all sent (perhaps by another operation)
              if (next == need::send_then_finish) return self.complete(result.ec, result.bytes);
              next = need::call;
              break;
            }
            if (stream.writing_) {
              if (next == need::send_then_finish && Operation::output_may_trail)
                return self.complete(result.ec, result.bytes);
              return wait_turn(self);
            }
            stream.writing_ = true;
            at = awaiting::socket_write;
            return stream.socket_.async_write_some(engine.output(), std::move(self));
          case need::receive:
            if (stream.reading_) return wait_turn(self);
            stream.reading_ = true;
            at = awaiting::socket_read;
            return stream.socket_.async_read_some(engine.input_space(), std::move(self));
        }
      }
    }

    template <class Self>
    void wait_turn(Self& self) {
      ++stream.waiters_;
      at = awaiting::turn;
      stream.transport_free_.expires_at(boost::asio::steady_timer::time_point::max());
      stream.transport_free_.async_wait(std::move(self));
    }
  };

  template <class Operation, class Token>
  auto run(Operation operation, Token&& token) {
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
        io_op<Operation>{*this, std::move(operation)}, token, socket_);
  }

  // An operation gave back the socket's side it held: those waiting for it try again.
  void wake_waiters() {
    if (waiters_) transport_free_.cancel();
  }

  next_layer_type socket_;
  tls_engine engine_;
  boost::asio::steady_timer transport_free_;
  unsigned waiters_ = 0;
  bool reading_ = false;  // a socket read is in flight
  bool writing_ = false;  // a socket write is in flight
};

namespace detail {
// Our close_notify, then the TCP teardown Beast does for a bare socket (a client shuts down sending and reads
// until the server closes).
struct tls_teardown_op {
  tls_stream& stream;
  boost::beast::role_type role;
  int stage = 0;
  boost::system::error_code first_failure{};
  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t = 0) {
    switch (stage++) {
      case 0: return stream.async_shutdown(std::move(self));
      case 1:
        first_failure = ec;
        return boost::beast::websocket::async_teardown(role, stream.next_layer(), std::move(self));
      default: return self.complete(first_failure ? first_failure : ec);
    }
  }
};
}  // namespace detail

// Beast's WebSocket close ends with a teardown of the stream beneath it, found by argument-dependent lookup
// (Beast's documentation of websocket::async_teardown: for a stream type of their own, "callers are
// responsible for providing a suitable overload").
template <class Handler>
void async_teardown(boost::beast::role_type role, tls_stream& stream, Handler&& handler) {
  return boost::asio::async_compose<Handler, void(boost::system::error_code)>(
      detail::tls_teardown_op{stream, role}, handler, stream);
}

}  // namespace voicebridge::net
