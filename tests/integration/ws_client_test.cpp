// net::ws_client over loopback: against Beast's websocket::stream as the server (plain, and over TLS with a
// test CA), and against raw servers that answer the upgrade or frame by hand, for what Beast would never send.
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/test/unit_test.hpp>

#include "integration/test_pki.hpp"
#include "net/ws_client.hpp"
#include "net/ws_upgrade.hpp"
#include "voicebridge/util/message_queue.hpp"

using namespace voicebridge;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Named, not built in a co_await expression (GCC 12: docs/gcc12-coroutines.md).
const std::string root = "/";
const net::header_list no_headers;
constexpr std::chrono::milliseconds no_idle_bound{0};

net::service_address address_of(const tcp::acceptor& acceptor, bool tls = false, std::string host = "127.0.0.1") {
  return {tls ? "wss" : "ws", tls, std::move(host), std::to_string(acceptor.local_endpoint().port()), "/"};
}

tcp::acceptor loopback_acceptor(asio::io_context& io) { return {io, {asio::ip::make_address("127.0.0.1"), 0}}; }

// Runs `test` to its end (or fails after 20 s).
template <class Test>
void run(asio::io_context& io, Test test) {
  auto done = asio::co_spawn(io, std::move(test), asio::use_future);
  io.run_for(20s);
  BOOST_TEST_REQUIRE((done.wait_for(0s) == std::future_status::ready), "the test did not finish");
  done.get();
}

// What a Beast server saw: messages and control frames in order ("ping:", "pong:"), and how its reading ended.
struct server_saw {
  std::vector<std::string> events;
  int close_code = -1;
};

template <class Stream>
asio::awaitable<void> beast_reads_until_closed(websocket::stream<Stream>& ws, server_saw& saw) {
  ws.control_callback([&saw](websocket::frame_type type, beast::string_view payload) {
    if (type == websocket::frame_type::ping) saw.events.push_back("ping:" + std::string(payload));
    if (type == websocket::frame_type::pong) saw.events.push_back("pong:" + std::string(payload));
  });
  for (;;) {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec == websocket::error::closed) saw.close_code = ws.reason().code;
    if (ec) co_return;
    saw.events.push_back(beast::buffers_to_string(buffer.data()));
  }
}

// Reads with the hot path's three calls until `count` data messages came, or the reading ended (the end's code).
asio::awaitable<error_code> read_messages(net::ws_client& client, std::size_t count, std::vector<std::string>& got) {
  std::vector<net::ws_message> messages;
  for (;;) {
    const auto end = client.parse(messages);
    for (auto& m : messages) got.push_back(std::move(m.payload));
    if (end) co_return *end;
    if (got.size() >= count) co_return error_code{};
    auto [ec, n] = co_await client.read_more();
    client.received(ec, n);
    if (ec) co_return ec;
  }
}

std::string accept_answer(const std::string& head, std::string_view accept_override = {}) {
  const auto at = head.find("Sec-WebSocket-Key: ") + 19;
  const std::string key = head.substr(at, head.find("\r\n", at) - at);
  const std::string accept = accept_override.empty() ? net::ws_accept_for(key) : std::string(accept_override);
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         accept + "\r\n\r\n";
}

asio::awaitable<std::string> read_head(tcp::socket& s) {
  std::string head;
  co_await asio::async_read_until(s, asio::dynamic_buffer(head), "\r\n\r\n", asio::use_awaitable);
  co_return head;
}

// A raw server: reads the upgrade request, writes `answer(request)` in one write, then reads until the client
// goes (so that nothing it sent is reset).
template <class Answer>
asio::awaitable<void> raw_server(tcp::acceptor& acceptor, Answer answer) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  const std::string head = co_await read_head(socket);
  const std::string reply = answer(head);
  co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
  std::array<char, 512> sink;
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), use_tuple);
    if (ec) co_return;
  }
}

std::string server_frame(std::uint8_t opcode, std::string_view payload) {  // unmasked, under 126 bytes
  std::string out{static_cast<char>(0x80 | opcode), static_cast<char>(payload.size())};
  return out + std::string(payload);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ws_client_sockets)

BOOST_AUTO_TEST_CASE(messages_go_both_ways_pings_are_answered_and_our_close_is_answered) {
  asio::io_context io;
  auto acceptor = loopback_acceptor(io);
  server_saw saw;
  std::vector<std::string> got;
  int woken = 0;
  auto server = [&]() -> asio::awaitable<void> {
    websocket::stream<tcp::socket> ws(co_await acceptor.async_accept(asio::use_awaitable));
    co_await ws.async_accept(asio::use_awaitable);
    co_await ws.async_write(asio::buffer(std::string("one")), asio::use_awaitable);
    // A fragmented message with a ping between its fragments (RFC 6455, section 5.4).
    ws.auto_fragment(false);
    co_await ws.async_write_some(false, asio::buffer(std::string("t")), asio::use_awaitable);
    co_await ws.async_ping(websocket::ping_data("p"), asio::use_awaitable);
    co_await ws.async_write_some(true, asio::buffer(std::string("wo")), asio::use_awaitable);
    co_await ws.async_write(asio::buffer(std::string(70000, 'x')), asio::use_awaitable);
    co_await beast_reads_until_closed(ws, saw);
  };
  auto client = [&]() -> asio::awaitable<void> {
    net::ws_client ws(co_await asio::this_coro::executor, nullptr);
    ws.on_control_owed([&] { ++woken; });
    const net::header_list headers{{"xi-api-key", "secret"}};
    const auto address = address_of(acceptor);
    const std::string target = "/v1/socket?x=1";
    BOOST_REQUIRE(!co_await ws.connect(address, target, headers, no_idle_bound));
    const auto first = co_await ws.write("hello");
    BOOST_TEST(!std::get<0>(first));
    BOOST_TEST(!co_await read_messages(ws, 3, got));
    BOOST_TEST(woken == 1, "the ping asked for the writer");
    const auto second = co_await ws.write("world");  // the pong goes first
    BOOST_TEST(!std::get<0>(second));
    const auto started = std::chrono::steady_clock::now();
    co_await (read_messages(ws, 99, got) && ws.close(1000));  // the reader reads on during the close
    BOOST_TEST(!ws.is_open());
    BOOST_TEST((std::chrono::steady_clock::now() - started < net::ws_client::close_wait), "the close was answered");
  };
  asio::co_spawn(io, server(), asio::detached);
  run(io, client());
  io.run_for(2s);
  BOOST_TEST((got == std::vector<std::string>{"one", "two", std::string(70000, 'x')}));
  BOOST_TEST((saw.events == std::vector<std::string>{"hello", "pong:p", "world"}));
  BOOST_TEST(saw.close_code == 1000);
}

BOOST_AUTO_TEST_CASE(the_services_close_is_answered_with_its_code) {
  asio::io_context io;
  auto acceptor = loopback_acceptor(io);
  error_code server_close;
  int echoed = -1;
  auto server = [&]() -> asio::awaitable<void> {
    websocket::stream<tcp::socket> ws(co_await acceptor.async_accept(asio::use_awaitable));
    co_await ws.async_accept(asio::use_awaitable);
    co_await ws.async_write(asio::buffer(std::string("bye")), asio::use_awaitable);
    // Beast's close completes when our answer came: its reason is then ours.
    std::tie(server_close) = co_await ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(4001), "done"), use_tuple);
    echoed = ws.reason().code;
  };
  auto client = [&]() -> asio::awaitable<void> {
    net::ws_client ws(co_await asio::this_coro::executor, nullptr);
    const auto address = address_of(acceptor);
    BOOST_REQUIRE(!co_await ws.connect(address, root, no_headers, no_idle_bound));
    std::string message;
    BOOST_TEST(!co_await ws.read(message));
    BOOST_TEST(message == "bye");
    BOOST_TEST((co_await ws.read(message) == websocket::error::closed));
    BOOST_TEST(ws.peer_close().code == 4001);
    BOOST_TEST(ws.peer_close().reason == "done");
    const auto nothing_after = co_await ws.write("too late");  // only the answer leaves
    BOOST_TEST(!std::get<0>(nothing_after));
    co_await ws.close(1000);  // the answer is out: no close of our own
    BOOST_TEST(!ws.is_open());
  };
  asio::co_spawn(io, server(), asio::detached);
  run(io, client());
  io.run_for(1s);
  BOOST_TEST(!server_close, server_close.message());
  BOOST_TEST(echoed == 4001);
}

BOOST_AUTO_TEST_CASE(over_tls_the_same_client_talks_to_asio_tls) {
  testing::test_pki pki;
  asio::ssl::context server_tls(asio::ssl::context::tls_server);
  server_tls.use_certificate_chain_file(pki.dir + "/server.pem");
  server_tls.use_private_key_file(pki.dir + "/server.key", asio::ssl::context::pem);
  auto client_tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  client_tls->load_verify_file(pki.dir + "/ca.pem");
  client_tls->set_verify_mode(asio::ssl::verify_peer);
  asio::io_context io;
  auto acceptor = loopback_acceptor(io);
  server_saw saw;
  std::vector<std::string> got;
  auto server = [&]() -> asio::awaitable<void> {
    websocket::stream<beast::ssl_stream<tcp::socket>> ws(co_await acceptor.async_accept(asio::use_awaitable), server_tls);
    co_await ws.next_layer().async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
    co_await ws.async_accept(asio::use_awaitable);
    const std::vector<std::string> messages{"a", std::string(20000, 'b'), "c"};
    for (const auto& m : messages) {
      co_await ws.async_write(asio::buffer(m), asio::use_awaitable);
    }
    co_await beast_reads_until_closed(ws, saw);
  };
  auto client = [&]() -> asio::awaitable<void> {
    net::ws_client ws(co_await asio::this_coro::executor, client_tls);
    const auto address = address_of(acceptor, true, "localhost");
    const auto ec = co_await ws.connect(address, root, no_headers, no_idle_bound);
    BOOST_REQUIRE_MESSAGE(!ec, ws.failure(ec));
    BOOST_TEST(!co_await read_messages(ws, 3, got));
    const std::vector<std::string> messages{"x", std::string(30000, 'y')};
    for (const auto& m : messages) {
      const auto [wec, n] = co_await ws.write(m);
      BOOST_TEST(!wec);
    }
    co_await (read_messages(ws, 99, got) && ws.close(1001));
  };
  asio::co_spawn(io, server(), asio::detached);
  run(io, client());
  io.run_for(2s);
  BOOST_TEST((got == std::vector<std::string>{"a", std::string(20000, 'b'), "c"}));
  BOOST_TEST((saw.events == std::vector<std::string>{"x", std::string(30000, 'y')}));
  BOOST_TEST(saw.close_code == 1001);
}

BOOST_AUTO_TEST_CASE(a_refused_upgrade_says_its_status_and_a_wrong_accept_value_is_refused) {
  for (const bool refused : {true, false}) {
    asio::io_context io;
    auto acceptor = loopback_acceptor(io);
    const auto answer = [&](const std::string& head) {
      return refused ? std::string("HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden")
                     : accept_answer(head, net::ws_accept_for(net::make_ws_key()));
    };
    asio::co_spawn(io, raw_server(acceptor, answer), asio::detached);
    run(io, [&]() -> asio::awaitable<void> {
      net::ws_client ws(co_await asio::this_coro::executor, nullptr);
      const auto address = address_of(acceptor);
      const auto ec = co_await ws.connect(address, root, no_headers, no_idle_bound);
      if (refused) {
        BOOST_TEST((ec == net::error::upgrade_refused));
        BOOST_TEST(ws.upgrade_status() == 403u);
        BOOST_TEST(ws.failure(ec) == "upgrade refused: HTTP 403");
      } else {
        BOOST_TEST((ec == websocket::error::bad_sec_accept));
        BOOST_TEST(ws.upgrade_status() == 0u);
        BOOST_TEST(ws.failure(ec).starts_with("upgrade: "), ws.failure(ec));
      }
    }());
  }
}

BOOST_AUTO_TEST_CASE(frames_in_the_same_segment_as_the_answer_are_read_and_a_masked_one_fails_the_connection) {
  asio::io_context io;
  auto acceptor = loopback_acceptor(io);
  const auto answer = [](const std::string& head) {
    const std::string masked_from_a_server{'\x81', '\x81', 'k', 'e', 'y', 's', 'x'};
    return accept_answer(head) + server_frame(1, "early") + server_frame(9, "p") + masked_from_a_server;
  };
  asio::co_spawn(io, raw_server(acceptor, answer), asio::detached);
  run(io, [&]() -> asio::awaitable<void> {
    net::ws_client ws(co_await asio::this_coro::executor, nullptr);
    const auto address = address_of(acceptor);
    BOOST_REQUIRE(!co_await ws.connect(address, root, no_headers, no_idle_bound));
    std::string message;
    BOOST_TEST(!co_await ws.read(message));
    BOOST_TEST(message == "early");
    BOOST_TEST((co_await ws.read(message) == net::error::ws_protocol_error));
    BOOST_TEST_REQUIRE(ws.protocol_failure().has_value());
    BOOST_TEST(ws.protocol_failure()->close_code == 1002);
    BOOST_TEST(!ws.is_open(), "the connection failed: the socket went");
  }());
}

BOOST_AUTO_TEST_CASE(the_keepalive_pings_a_quiet_service_and_drops_a_silent_one) {
  const std::chrono::milliseconds idle_bound{200};
  // A quiet Beast server answers the pings: the connection lives on, for five idle timeouts.
  {
    asio::io_context io;
    auto acceptor = loopback_acceptor(io);
    server_saw saw;
    const auto server = [&]() -> asio::awaitable<void> {
      websocket::stream<tcp::socket> ws(co_await acceptor.async_accept(asio::use_awaitable));
      co_await ws.async_accept(asio::use_awaitable);
      co_await beast_reads_until_closed(ws, saw);
    };
    asio::co_spawn(io, server(), asio::detached);
    run(io, [&]() -> asio::awaitable<void> {
      auto executor = co_await asio::this_coro::executor;
      net::ws_client ws(executor, nullptr);
      // The owner's writer, as the conversation's: a queue, woken for what is owed.
      util::message_queue<std::string> out(executor, 16);
      ws.on_control_owed([&] { out.push(std::string{}); });
      const auto address = address_of(acceptor);
      BOOST_REQUIRE(!co_await ws.connect(address, root, no_headers, idle_bound));
      asio::steady_timer end(executor, 5 * idle_bound);
      end.async_wait([&](error_code) { out.close(); });
      const auto writer = [&]() -> asio::awaitable<void> {
        while (auto text = co_await out.pop()) {
          const std::string_view message = *text;
          co_await ws.write(message);
        }
        BOOST_TEST(ws.is_open(), "the pongs kept it alive");
        co_await ws.close(1000);
      };
      std::vector<std::string> got;
      co_await (read_messages(ws, 1, got) && writer());
    }());
    BOOST_TEST(std::count(saw.events.begin(), saw.events.end(), "ping:") >= 3);
    BOOST_TEST(saw.close_code == 1000);
  }
  // A raw server that never answers anything: the socket goes after the idle timeout.
  {
    asio::io_context io;
    auto acceptor = loopback_acceptor(io);
    const auto answer = [](const std::string& head) { return accept_answer(head); };
    asio::co_spawn(io, raw_server(acceptor, answer), asio::detached);
    run(io, [&]() -> asio::awaitable<void> {
      net::ws_client ws(co_await asio::this_coro::executor, nullptr);
      const auto address = address_of(acceptor);
      BOOST_REQUIRE(!co_await ws.connect(address, root, no_headers, idle_bound));
      const auto started = std::chrono::steady_clock::now();
      std::vector<std::string> got;
      BOOST_TEST(co_await read_messages(ws, 1, got));
      BOOST_TEST(!ws.is_open());
      BOOST_TEST((std::chrono::steady_clock::now() - started >= idle_bound));
    }());
  }
}

BOOST_AUTO_TEST_SUITE_END()
