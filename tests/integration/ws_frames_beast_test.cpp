// The frame reader (net/ws_frames.hpp) against Beast, both sides, over loopback: the same bytes go to a Beast
// websocket::stream through a real socket and to ws_frame_reader, and both must read the same messages and
// control frames, and refuse the same frames with the same close code (Beast's close frame, read off the
// wire). As a server Beast reads a client's masked frames; as a client, a server's unmasked ones. Beast also
// reads what net::append_frame writes, batched as one write sends it.
#include <openssl/sha.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/test/unit_test.hpp>

#include "net/ws_frames.hpp"
#include "voicebridge/util/base64.hpp"

using namespace voicebridge;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using kind = net::ws_message::kind;

namespace {

constexpr std::size_t max_message = 100000;

struct reading {  // what one side made of the bytes
  std::vector<std::string> events;  // "text:...", "binary:...", "ping:...", "pong:...", "close:1000:..."
  std::uint16_t failed_with = 0;    // the close code sent for a refused frame; 0: none
};

std::string describe(kind what, std::string_view payload, std::uint16_t code = 0) {
  switch (what) {
    case kind::text: return "text:" + std::string(payload);
    case kind::binary: return "binary:" + std::string(payload);
    case kind::ping: return "ping:" + std::string(payload);
    case kind::pong: return "pong:" + std::string(payload);
    case kind::close: return "close:" + std::to_string(code) + ":" + std::string(payload);
  }
  return "?";
}

reading ours(const std::string& bytes, net::ws_role role) {
  net::ws_frame_reader reader(role, max_message);
  std::vector<net::ws_message> got;
  reader.read(bytes, got);
  reading r;
  for (const auto& m : got) r.events.push_back(describe(m.what, m.payload, m.close_code));
  if (reader.failure()) r.failed_with = reader.failure()->close_code;
  // Beast stops at a close frame (the read ends with `closed`): so does the comparison.
  for (std::size_t i = 0; i < r.events.size(); ++i)
    if (r.events[i].starts_with("close:")) r.events.resize(i + 1);
  return r;
}

// Beast reads until its read fails; what it read, and the close code of the close frame it sent (if any).
asio::awaitable<reading> beast_reads(websocket::stream<beast::tcp_stream>& ws, tcp::socket& raw_peer) {
  reading r;
  ws.read_message_max(max_message);
  ws.control_callback([&r](websocket::frame_type type, beast::string_view payload) {
    if (type == websocket::frame_type::ping) r.events.push_back(describe(kind::ping, payload));
    if (type == websocket::frame_type::pong) r.events.push_back(describe(kind::pong, payload));
  });
  for (;;) {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec == websocket::error::closed) {
      r.events.push_back(describe(kind::close, std::string(ws.reason().reason.data(), ws.reason().reason.size()), static_cast<std::uint16_t>(ws.reason().code)));
      co_return r;
    }
    if (ec) break;
    r.events.push_back(describe(ws.got_text() ? kind::text : kind::binary, beast::buffers_to_string(buffer.data())));
  }
  // Refused: Beast sent a close frame with its code. Whatever it sent, the raw peer reads to the end.
  beast::error_code ignored;
  beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::string wire;
  std::array<char, 512> chunk;
  for (;;) {
    auto [ec, n] = co_await raw_peer.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    wire.append(chunk.data(), n);
    if (ec) break;
  }
  // Its close frame: unmasked from a server, masked from a client; the code is the first two payload bytes.
  if (wire.size() >= 4 && (static_cast<unsigned char>(wire[0]) & 0x0F) == 0x8) {
    const bool masked = static_cast<unsigned char>(wire[1]) & 0x80;
    const std::size_t at = masked ? 6 : 2;
    if (wire.size() >= at + 2) {
      unsigned char b0 = wire[at], b1 = wire[at + 1];
      if (masked) b0 ^= static_cast<unsigned char>(wire[2]), b1 ^= static_cast<unsigned char>(wire[3]);
      r.failed_with = static_cast<std::uint16_t>(b0 << 8 | b1);
    }
  }
  co_return r;
}

std::string accept_key(std::string_view key) {
  const std::string text = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455, section 1.3
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return util::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

asio::awaitable<std::string> read_head(tcp::socket& s) {
  std::string head;
  char c;
  while (!head.ends_with("\r\n\r\n")) {
    co_await asio::async_read(s, asio::buffer(&c, 1), asio::use_awaitable);
    head += c;
  }
  co_return head;
}

// Beast as the server: a raw client does the handshake by hand, then sends `frames` (masked, or not).
asio::awaitable<reading> beast_server_reads(std::string frames) {
  auto ex = co_await asio::this_coro::executor;
  tcp::acceptor acceptor(ex, {asio::ip::make_address("127.0.0.1"), 0});
  tcp::socket raw(ex);
  co_await raw.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
  websocket::stream<beast::tcp_stream> ws(co_await acceptor.async_accept(asio::use_awaitable));
  const std::string upgrade =
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  co_await asio::async_write(raw, asio::buffer(upgrade), asio::use_awaitable);
  co_await ws.async_accept(asio::use_awaitable);
  co_await read_head(raw);
  co_await asio::async_write(raw, asio::buffer(frames), asio::use_awaitable);
  raw.shutdown(tcp::socket::shutdown_send);  // all sent: Beast's read ends there, if nothing ended it before
  co_return co_await beast_reads(ws, raw);
}

// The raw server's part: the handshake's answer by hand, then `frames`.
asio::awaitable<void> answer_then_send(tcp::socket& raw, std::string frames) {
  const std::string head = co_await read_head(raw);
  const auto key_at = head.find("Sec-WebSocket-Key: ") + 19;
  const std::string key = head.substr(key_at, head.find("\r\n", key_at) - key_at);
  const std::string answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
                             accept_key(key) + "\r\n\r\n";
  co_await asio::async_write(raw, asio::buffer(answer), asio::use_awaitable);
  co_await asio::async_write(raw, asio::buffer(frames), asio::use_awaitable);
  raw.shutdown(tcp::socket::shutdown_send);  // all sent: Beast's read ends there, if nothing ended it before
}

// Beast as the client: a raw server answers the handshake by hand, then sends `frames`.
asio::awaitable<reading> beast_client_reads(std::string frames) {
  auto ex = co_await asio::this_coro::executor;
  tcp::acceptor acceptor(ex, {asio::ip::make_address("127.0.0.1"), 0});
  websocket::stream<beast::tcp_stream> ws(ex);
  co_await ws.next_layer().async_connect(acceptor.local_endpoint(), asio::use_awaitable);
  tcp::socket raw = co_await acceptor.async_accept(asio::use_awaitable);
  asio::co_spawn(ex, answer_then_send(raw, std::move(frames)), asio::detached);
  co_await ws.async_handshake("x", "/", asio::use_awaitable);
  co_return co_await beast_reads(ws, raw);
}

reading beast_reading(std::string frames, net::ws_role role) {
  asio::io_context io;
  auto task = role == net::ws_role::server ? beast_server_reads(std::move(frames)) : beast_client_reads(std::move(frames));
  auto result = asio::co_spawn(io, std::move(task), asio::use_future);
  io.run_for(10s);
  BOOST_TEST_REQUIRE((result.wait_for(0s) == std::future_status::ready), "Beast did not finish");
  return result.get();
}

std::string frame(bool fin, std::uint8_t opcode, std::string_view payload, bool masked, std::uint8_t rsv = 0, int form = 0) {
  std::string out(1, static_cast<char>((fin ? 0x80 : 0) | rsv << 4 | opcode));
  const std::uint64_t n = payload.size();
  if (!form) form = n < 126 ? 0 : n < 65536 ? 126 : 127;
  const int mask_bit = masked ? 0x80 : 0;
  if (form == 0) out += static_cast<char>(mask_bit | static_cast<int>(n));
  else {
    out += static_cast<char>(mask_bit | form);
    for (int i = form == 126 ? 1 : 7; i >= 0; --i) out += static_cast<char>(n >> (8 * i) & 0xFF);
  }
  const char key[4] = {'\x5a', '\x01', '\xc3', '\x7e'};
  if (masked) out.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out += masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i];
  return out;
}

// Each case as the frames a peer sends; `m` masks them as a client must (true for the server-side reading).
std::vector<std::pair<std::string, std::string>> cases(bool m) {
  const std::string code1000("\x03\xE8", 2);
  return {
      {"text and binary", frame(true, 1, "hello", m) + frame(true, 2, std::string("\0\xFF", 2), m)},
      {"fragments with control frames between", frame(false, 1, "Hel", m) + frame(true, 9, "p", m) +
                                                    frame(false, 0, "lo ", m) + frame(true, 10, "q", m) + frame(true, 0, "you", m)},
      {"length forms", frame(true, 2, std::string(125, 'a'), m) + frame(true, 2, std::string(126, 'b'), m) +
                           frame(true, 2, std::string(65535, 'c'), m) + frame(true, 2, std::string(65536, 'd'), m)},
      {"a character split between fragments", frame(false, 1, "\xE2\x82", m) + frame(true, 0, "\xAC", m)},
      {"close with a code and reason", frame(true, 1, "last", m) + frame(true, 8, code1000 + "bye", m) + frame(true, 1, "after", m)},
      {"close without a body", frame(true, 8, "", m)},
      {"the wrong masking", frame(true, 1, "x", !m)},
      {"a length not in its shortest form", frame(true, 1, "short", m, 0, 126)},
      {"a 64-bit length for a short frame", frame(true, 1, std::string(300, 'x'), m, 0, 127)},
      {"a reserved bit", frame(true, 1, "x", m, 2)},
      {"a reserved opcode", frame(true, 3, "x", m)},
      {"a reserved control opcode", frame(true, 11, "x", m)},
      {"a fragmented ping", frame(false, 9, "p", m)},
      {"a control frame over 125 bytes", frame(true, 9, std::string(126, 'p'), m)},
      {"a continuation outside a message", frame(true, 0, "x", m)},
      {"a new message inside one", frame(false, 1, "a", m) + frame(true, 1, "b", m)},
      {"text that is not UTF-8", frame(true, 1, "ok \xC0\xAF", m)},
      {"text cut inside a character", frame(true, 1, "\xE2\x82", m)},
      {"a one-byte close body", frame(true, 8, "\x03", m)},
      {"a close code that may not be sent", frame(true, 8, std::string("\x03\xED", 2), m)},
      {"close code 1014", frame(true, 8, std::string("\x03\xF6", 2), m)},
      {"a close reason that is not UTF-8", frame(true, 8, code1000 + "\xFF", m)},
      {"a message over the bound", frame(true, 2, std::string(max_message + 1, 'z'), m)},
      {"fragments over the bound", frame(false, 2, std::string(max_message / 2, 'z'), m) +
                                       frame(true, 0, std::string(max_message / 2 + 1, 'z'), m)},
  };
}

// What net::append_frame writes, in one batch as one write would send it: masked toward a server.
std::string written_batch(bool masked) {
  const auto key = masked ? std::optional<std::uint32_t>(0x0badf00d) : std::nullopt;
  using net::ws_fragment;
  std::string out;
  net::append_frame(out, kind::text, R"({"event":"media","media":{"payload":"fw=="}})", ws_fragment::whole, key);
  net::append_frame(out, kind::text, "frag", ws_fragment::first, key);
  net::append_frame(out, kind::ping, "in between", ws_fragment::whole, key);
  net::append_frame(out, kind::text, "mented \xE2\x82", ws_fragment::middle, key);
  net::append_frame(out, kind::text, "\xAC", ws_fragment::last, key);
  net::append_frame(out, kind::binary, std::string(300, '\0'), ws_fragment::whole, key);
  net::append_frame(out, kind::binary, std::string(70000, 'b'), ws_fragment::whole, key);
  net::append_frame(out, kind::pong, "", ws_fragment::whole, key);
  net::append_frame(out, kind::close, "call ended", ws_fragment::whole, key, 1000);
  return out;
}

void compare(net::ws_role role) {
  auto all = cases(role == net::ws_role::server);
  all.emplace_back("the writer's frames, batched", written_batch(role == net::ws_role::server));
  for (const auto& [name, frames] : all) {
    const auto beast = beast_reading(frames, role);
    const auto mine = ours(frames, role);
    BOOST_TEST(mine.events == beast.events, name);
    BOOST_TEST(mine.failed_with == beast.failed_with, name);
  }
  // And Beast reads the writer's batch as it was written.
  const auto beast = beast_reading(written_batch(role == net::ws_role::server), role);
  const std::vector<std::string> expected{R"(text:{"event":"media","media":{"payload":"fw=="}})", "ping:in between",
                                          "text:fragmented \xE2\x82\xAC", "binary:" + std::string(300, '\0'),
                                          "binary:" + std::string(70000, 'b'), "pong:", "close:1000:call ended"};
  BOOST_TEST(beast.events == expected);
  BOOST_TEST(beast.failed_with == 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ws_frames_beast)

BOOST_AUTO_TEST_CASE(as_a_server_the_reader_reads_and_refuses_what_beast_does) { compare(net::ws_role::server); }

BOOST_AUTO_TEST_CASE(as_a_client_the_reader_reads_and_refuses_what_beast_does) { compare(net::ws_role::client); }

BOOST_AUTO_TEST_SUITE_END()
