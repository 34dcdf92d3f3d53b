// net::tls_engine without sockets (two engines joined in memory), and net::tls_stream under Beast's WebSocket
// client against a Beast server on Asio's own ssl::stream (the reference), over loopback with a test CA.
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/test/unit_test.hpp>
#include <cstring>

#include "integration/test_pki.hpp"
#include "net/connect.hpp"
#include "net/tls_stream.hpp"

using namespace voicebridge;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using want = net::tls_engine::want;
using testing::test_pki;
using namespace asio::experimental::awaitable_operators;

namespace {

ssl::context server_context(const test_pki& pki) {
  ssl::context context(ssl::context::tls_server);
  context.use_certificate_chain_file(pki.dir + "/server.pem");
  context.use_private_key_file(pki.dir + "/server.key", ssl::context::pem);
  return context;
}

ssl::context client_context(const std::string& ca_file) {
  ssl::context context(ssl::context::tls_client);
  if (!ca_file.empty()) context.load_verify_file(ca_file);
  context.set_verify_mode(ssl::verify_peer);
  return context;
}

// Everything `from` queued for the wire goes into `to`'s input, as a socket would carry it.
void carry(net::tls_engine& from, net::tls_engine& to) {
  while (from.has_output()) {
    const auto out = from.output();
    const auto space = to.input_space();
    const std::size_t n = std::min(out.size(), space.size());
    std::memcpy(space.data(), out.data(), n);
    to.received(n);
    from.sent(n);
  }
}

// Handshakes both until neither wants anything; what each side's handshake failed with.
struct handshake_result {
  boost::system::error_code client, server;
};
handshake_result handshake(net::tls_engine& client, net::tls_engine& server) {
  handshake_result result;
  for (int round = 0; round < 10; ++round) {
    const auto c = client.handshake();
    carry(client, server);
    const auto s = server.handshake();
    carry(server, client);
    result = {c.ec, s.ec};
    if (c.ec || s.ec || (c.next == want::nothing && s.next == want::nothing && SSL_is_init_finished(client.native_handle())))
      break;
  }
  return result;
}

// A client and a server engine on the test CA's certificate; the client trusts `ca_file` (none: nothing).
struct engine_pair {
  ssl::context server_ctx, client_ctx;
  net::tls_engine client, server;
  engine_pair(const test_pki& pki, const std::string& ca_file)
      : server_ctx(server_context(pki)),
        client_ctx(client_context(ca_file)),
        client(client_ctx.native_handle(), net::tls_engine::role::client),
        server(server_ctx.native_handle(), net::tls_engine::role::server) {}
};

// Two engines that trust each other, past their handshake.
struct connected_engines {
  test_pki pki;
  engine_pair engines{pki, pki.dir + "/ca.pem"};
  net::tls_engine& client = engines.client;
  net::tls_engine& server = engines.server;
  connected_engines() { BOOST_REQUIRE(!handshake(client, server).client); }
};

// `text` through `writer` into `reader`, written in as many records as it takes and read back whole.
std::string send_through(net::tls_engine& writer, net::tls_engine& reader, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const auto w = writer.write(asio::buffer(text.data() + written, text.size() - written));
    BOOST_REQUIRE(!w.ec);
    written += w.bytes;
    carry(writer, reader);
  }
  std::string got(text.size() + 10, '\0');
  std::size_t read = 0;
  for (int steps = 0; read < text.size() && steps < 1000; ++steps) {
    const auto r = reader.read(asio::buffer(got.data() + read, got.size() - read));
    BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
    read += r.bytes;
    carry(reader, writer);  // whatever reading made the reader say (a key update's answer)
    if (r.next == want::input_and_retry) break;
  }
  got.resize(read);
  return got;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_engine_in_memory)

BOOST_FIXTURE_TEST_CASE(records_both_ways_key_updates_and_close_notify, connected_engines) {
  BOOST_TEST(SSL_version(client.native_handle()) == TLS1_3_VERSION);

  for (std::size_t size : {1u, 160u, 1000u, 16384u, 16385u, 100000u}) {
    const std::string text(size, static_cast<char>('a' + size % 26));
    BOOST_TEST(send_through(client, server, text) == text, size);
    BOOST_TEST(send_through(server, client, text) == text, size);
  }
  // A key update the server asks the client to answer: the client's read queues the answer, and the records
  // after it still read (RFC 8446, section 4.6.3).
  BOOST_REQUIRE(SSL_key_update(server.native_handle(), SSL_KEY_UPDATE_REQUESTED));
  BOOST_TEST(send_through(server, client, "after the update") == "after the update");
  BOOST_TEST(send_through(client, server, "answered") == "answered");

  // A large record grew the queues; small traffic gives them back (2 KiB each at most).
  BOOST_TEST(send_through(client, server, "small") == "small");
  BOOST_TEST(send_through(server, client, "small") == "small");
  BOOST_TEST(client.buffered_capacity() <= 4096u);
  BOOST_TEST(server.buffered_capacity() <= 4096u);

  const auto bye = client.shutdown();
  BOOST_TEST(!bye.ec);
  BOOST_TEST((bye.next == want::output));
  carry(client, server);
  char byte;
  const auto end = server.read(asio::buffer(&byte, 1));
  BOOST_TEST((end.ec == asio::error::eof));
  BOOST_TEST((server.end_of_stream() == asio::error::eof));
  BOOST_TEST((client.end_of_stream() == ssl::error::stream_truncated), "the client has not seen the server's");
}

BOOST_AUTO_TEST_CASE(an_untrusted_certificate_fails_the_handshake_and_alerts_the_server) {
  test_pki pki;
  engine_pair engines(pki, "");  // the client trusts nothing
  const auto failed = handshake(engines.client, engines.server);
  BOOST_TEST(failed.client.message().find("certificate verify failed") != std::string::npos, failed.client.message());
  BOOST_TEST(failed.server.message().find("unknown ca") != std::string::npos, failed.server.message());
}

BOOST_FIXTURE_TEST_CASE(a_record_cut_short_is_a_truncated_stream, connected_engines) {
  send_through(client, server, "settle");  // the server's session tickets, read
  const std::string text(3000, 'x');
  BOOST_REQUIRE(!server.write(asio::buffer(text)).ec);
  const auto out = server.output();
  const auto space = client.input_space();
  const std::size_t half = std::min(out.size() / 2, space.size());
  std::memcpy(space.data(), out.data(), half);
  client.received(half);
  std::string got(3000, '\0');
  BOOST_TEST((client.read(asio::buffer(got)).next == want::input_and_retry));
  BOOST_TEST((client.end_of_stream() == ssl::error::stream_truncated));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

using tls_websocket = websocket::stream<net::tls_stream>;
using reference_server = websocket::stream<beast::ssl_stream<tcp::socket>>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Echoes every message until the client closes; the close code it saw.
asio::awaitable<int> echo_server(tcp::acceptor& acceptor, ssl::context& context) {
  reference_server ws(co_await acceptor.async_accept(asio::use_awaitable), context);
  if (auto [ec] = co_await ws.next_layer().async_handshake(ssl::stream_base::server, use_tuple); ec) co_return -3;
  co_await ws.async_accept(asio::use_awaitable);
  ws.read_message_max(1 << 20);
  for (int messages = 0;; ++messages) {
    // Now and then the server updates its keys and asks the client to update its own (RFC 8446, section
    // 4.6.3): the client's read must send an answer, while its writer sends too, in the right order.
    if (messages % 40 == 39) SSL_key_update(ws.next_layer().native_handle(), SSL_KEY_UPDATE_REQUESTED);
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec == websocket::error::closed) co_return static_cast<int>(ws.reason().code);
    if (ec) {
      BOOST_TEST_MESSAGE("echo server: " << ec.message());
      co_return -1;
    }
    ws.text(ws.got_text());
    if (auto [wec, wn] = co_await ws.async_write(buffer.data(), use_tuple); wec) co_return -2;
  }
}

struct client_run {
  std::vector<std::string> echoed;
  boost::system::error_code handshake, close;
  int server_saw = 0;
  std::size_t buffered = 0;  // the engine's queues at the end
  bool nothing_done = false;  // a read and a write of no bytes completed with 0 bytes
};

// The client writes `messages` while it reads their echoes (one writer and one reader at once), then closes.
client_run run_client(const std::string& host, const std::vector<std::string>& messages, const test_pki& pki) {
  asio::io_context io;
  auto server_ctx = server_context(pki);
  auto client_ctx = client_context(pki.dir + "/ca.pem");
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  client_run run;
  auto server = asio::co_spawn(io, echo_server(acceptor, server_ctx), asio::use_future);
  auto client = [&]() -> asio::awaitable<void> {
    tls_websocket ws(io.get_executor(), client_ctx.native_handle());
    co_await ws.next_layer().next_layer().async_connect(acceptor.local_endpoint(), asio::use_awaitable);
    // A small send buffer keeps the writer's records on their way longer: the reader then finds the socket's
    // sending side taken when a key update makes it answer, and waits its turn.
    ws.next_layer().next_layer().set_option(tcp::socket::send_buffer_size(4096));
    run.handshake = net::expect_host(ws.next_layer().native_handle(), host);
    if (!run.handshake) std::tie(run.handshake, std::ignore) = co_await ws.next_layer().async_handshake(use_tuple);
    if (run.handshake) co_return;
    // Nothing to read or write: done at once, and later, not inside the call (Asio's rule for initiators).
    auto [read_nothing, read_bytes] = co_await ws.next_layer().async_read_some(asio::mutable_buffer(), use_tuple);
    auto [write_nothing, written] = co_await ws.next_layer().async_write_some(asio::const_buffer(), use_tuple);
    run.nothing_done = !read_nothing && !write_nothing && read_bytes == 0 && written == 0;
    co_await ws.async_handshake(host, "/", asio::use_awaitable);
    ws.read_message_max(1 << 20);
    auto writer = [&]() -> asio::awaitable<void> {
      for (std::size_t i = 0; i < messages.size(); ++i) {
        ws.binary(i % 2);
        co_await ws.async_write(asio::buffer(messages[i]), asio::use_awaitable);
      }
    };
    auto reader = [&]() -> asio::awaitable<void> {
      while (run.echoed.size() < messages.size()) {
        beast::flat_buffer buffer;
        co_await ws.async_read(buffer, asio::use_awaitable);
        run.echoed.push_back(beast::buffers_to_string(buffer.data()));
      }
    };
    co_await (writer() && reader());
    std::tie(run.close) = co_await ws.async_close(websocket::close_code::going_away, use_tuple);
    run.buffered = ws.next_layer().engine().buffered_capacity();
  };
  asio::co_spawn(io, client(), [](std::exception_ptr e) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const std::exception& failure) {
      BOOST_TEST_ERROR("the client failed: " << failure.what());
    }
  });
  io.run_for(20s);
  if (server.wait_for(0s) == std::future_status::ready) run.server_saw = server.get();
  return run;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_stream_sockets)

BOOST_AUTO_TEST_CASE(a_beast_websocket_over_it_talks_to_asio_tls_and_closes_cleanly) {
  test_pki pki;
  std::vector<std::string> messages;
  for (std::size_t size : {1u, 125u, 126u, 700u, 1400u, 16000u, 16384u, 16390u, 70000u, 300000u, 5u})
    for (int copy = 0; copy < 3; ++copy) messages.push_back(std::string(size, static_cast<char>('a' + copy)));
  for (int frame = 0; frame < 200; ++frame) messages.push_back(std::string(640, static_cast<char>('A' + frame % 26)));
  const auto run = run_client("localhost", messages, pki);
  BOOST_REQUIRE_MESSAGE(!run.handshake, run.handshake.message());
  BOOST_TEST(run.echoed == messages);
  BOOST_TEST(!run.close, run.close.message());
  BOOST_TEST(run.server_saw == static_cast<int>(websocket::close_code::going_away));
  BOOST_TEST(run.buffered <= 4096u, "after the large messages, the queues are back to small");
  BOOST_TEST(run.nothing_done);
}

BOOST_AUTO_TEST_CASE(the_certificate_must_name_the_host) {
  test_pki pki;
  // The certificate names localhost only: by address it is refused, as it would be by another name.
  const auto by_address = run_client("127.0.0.1", {"x"}, pki);
  BOOST_TEST(by_address.handshake.message().find("certificate verify failed") != std::string::npos,
             by_address.handshake.message());
  const auto other_name = run_client("voicebridge.invalid", {"x"}, pki);
  BOOST_TEST(other_name.handshake.message().find("certificate verify failed") != std::string::npos,
             other_name.handshake.message());
}

// A server that stops reading, then sends a record that does not decrypt. The client's writer is stalled
// mid-message (the server's window is full); its reader must still fail at once, with its alert queued behind
// the stalled write, not wait for the writer.
BOOST_AUTO_TEST_CASE(a_read_that_fails_while_the_writer_is_stalled_fails_at_once) {
  test_pki pki;
  asio::io_context io;
  auto server_ctx = server_context(pki);
  auto client_ctx = client_context(pki.dir + "/ca.pem");
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  acceptor.set_option(tcp::socket::receive_buffer_size(4096));  // the accepted socket's window stays small
  auto stalling_server = [&]() -> asio::awaitable<void> {
    reference_server ws(co_await acceptor.async_accept(asio::use_awaitable), server_ctx);
    co_await ws.next_layer().async_handshake(ssl::stream_base::server, asio::use_awaitable);
    co_await ws.async_accept(asio::use_awaitable);
    asio::steady_timer pause(io, 300ms);  // the client's writer fills the window meanwhile
    co_await pause.async_wait(asio::use_awaitable);
    std::string forged("\x17\x03\x03\x00\x20", 5);  // an application data record whose tag is wrong
    forged += std::string(32, '\x5a');
    co_await asio::async_write(beast::get_lowest_layer(ws), asio::buffer(forged), asio::use_awaitable);
    asio::steady_timer hold(io, 10s);  // keeps the connection (and the stall) until the test ends
    co_await hold.async_wait(use_tuple);
  };
  asio::co_spawn(io, stalling_server(), asio::detached);

  tls_websocket ws(io.get_executor(), client_ctx.native_handle());
  boost::system::error_code read_failed;
  bool write_finished = false;
  auto client = [&]() -> asio::awaitable<void> {
    co_await ws.next_layer().next_layer().async_connect(acceptor.local_endpoint(), asio::use_awaitable);
    ws.next_layer().next_layer().set_option(tcp::socket::send_buffer_size(4096));
    BOOST_REQUIRE(!net::expect_host(ws.next_layer().native_handle(), "localhost"));
    co_await ws.next_layer().async_handshake(asio::use_awaitable);
    co_await ws.async_handshake("localhost", "/", asio::use_awaitable);
    const std::string big(8 << 20, 'b');
    asio::co_spawn(io, [&, big]() -> asio::awaitable<void> {
      co_await ws.async_write(asio::buffer(big), use_tuple);
      write_finished = true;
    }, asio::detached);
    beast::flat_buffer buffer;
    std::tie(read_failed, std::ignore) = co_await ws.async_read(buffer, use_tuple);
    io.stop();
  };
  asio::co_spawn(io, client(), asio::detached);
  io.run_for(5s);
  BOOST_TEST(!write_finished, "the writer was stalled");
  BOOST_TEST(read_failed.message().find("bad record mac") != std::string::npos, read_failed.message());
}

BOOST_AUTO_TEST_SUITE_END()
