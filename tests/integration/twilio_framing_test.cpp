// The gateway's own WebSocket framing on the call path (call/twilio_socket.cpp over net::ws_frames), against a
// Beast client as Twilio: frames cut and batched as a network delivers them, pings answered with their payload,
// a fragmented `start` with a ping between its fragments, the close handshake either side begins, and each way
// a frame can break RFC 6455 answered with the close code section 7.4.1 names and recorded as protocol_error.
#include "integration/gateway_fixture.hpp"
#include "net/ws_frames.hpp"
#include "voicebridge/util/base64.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;
using kind = net::ws_message::kind;

namespace {

using client_ws = websocket::stream<beast::tcp_stream>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Each frame masked, as a client's must be (RFC 6455, section 5.3).
std::string masked(kind what, std::string_view payload, net::ws_fragment part = net::ws_fragment::whole) {
  std::string out;
  net::append_frame(out, what, payload, part, 0x5a17c3e9u);
  return out;
}

std::string media(const std::string& call_sid, std::uint64_t n) {
  const std::string silence(160, '\xFF');  // 20 ms of mu-law
  return twilio::serialize_inbound_media("MZ" + call_sid.substr(2), {n, "inbound", n, 20 * n, util::base64_encode(silence)});
}

struct session {
  std::vector<std::string> pongs;  // their payloads
  std::size_t media_received = 0;
  int close_code = -1;  // the gateway's close frame; -1: none
};

// Upgrades (signed), writes `bytes` as they are (whatever frames they hold, in one write), then reads until
// the gateway sent `media_wanted` media messages and answered `pongs_wanted` pings, and closes with 1000 (the
// gateway answers); or until the gateway closes.
asio::awaitable<session> talk(std::uint16_t port, std::string signature, std::string bytes, std::size_t pongs_wanted,
                              std::size_t media_wanted) {
  session s;
  client_ws ws(co_await asio::this_coro::executor);
  ws.next_layer().expires_after(20s);  // the whole conversation, whatever happens
  co_await ws.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) { req.set("X-Twilio-Signature", signature); }));
  co_await ws.async_handshake("gw.example.test", "/ws/twilio/stream", asio::use_awaitable);
  ws.control_callback([&](websocket::frame_type type, beast::string_view payload) {
    if (type == websocket::frame_type::pong) s.pongs.emplace_back(payload);
  });
  co_await asio::async_write(ws.next_layer(), asio::buffer(bytes), asio::use_awaitable);
  beast::flat_buffer buffer;
  while (s.pongs.size() < pongs_wanted || s.media_received < media_wanted) {
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec) {
      if (ec == websocket::error::closed) s.close_code = ws.reason().code;
      co_return s;
    }
    if (beast::buffers_to_string(buffer.data()).find("\"media\"") != std::string::npos) ++s.media_received;
    buffer.consume(buffer.size());
  }
  auto [ec] = co_await ws.async_close(websocket::close_code::normal, use_tuple);
  if (!ec) s.close_code = ws.reason().code;  // the gateway's answer to our close
  co_return s;
}

fake::agent_script greeting_agent() {
  fake::agent_script script;
  script.greeting = speech(5, 1);
  return script;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(twilio_framing)

// One write holding a `start` in three fragments with a ping between them, ten media messages and a second
// ping: the call starts, the agent hears all ten frames, both pings are answered with their own payloads, and
// the caller's close is answered with its code.
BOOST_AUTO_TEST_CASE(frames_batched_and_fragmented_as_a_network_delivers_them_are_all_read) {
  auto config = gateway_config();
  config.admin_token = test_admin_token;
  gateway gw(config, greeting_agent());
  const std::string call_sid = "CA" + std::string(32, 'f');
  const std::string start = start_without_token(call_sid);
  const std::size_t third = start.size() / 3;
  std::string bytes = masked(kind::text, std::string_view(start).substr(0, third), net::ws_fragment::first) +
                      masked(kind::ping, "between fragments") +
                      masked(kind::text, std::string_view(start).substr(third, third), net::ws_fragment::middle) +
                      masked(kind::text, std::string_view(start).substr(2 * third), net::ws_fragment::last);
  for (std::uint64_t n = 1; n <= 10; ++n) bytes += masked(kind::text, media(call_sid, n));
  bytes += masked(kind::ping, "");
  const auto s = gw.run(talk(gw.port, stream_signature(gw.server->config()), bytes, 2, 1));
  gw.settle();
  BOOST_TEST(s.pongs == (std::vector<std::string>{"between fragments", ""}), gw.logs.str());
  BOOST_TEST(s.media_received >= 1u);  // the agent's greeting
  BOOST_TEST(s.close_code == 1000);    // our close, echoed (RFC 6455, section 5.5.1)
  BOOST_TEST(gw.agent->record().caller_audio.size() == 10u * 160u);
  const auto record = call_record(gw, call_sid);
  BOOST_TEST(std::string(record.at("outcome").as_string()) == "agent");
  BOOST_TEST(std::string(record.at("end_reason").as_string()) == "twilio closed");
}

// Each way a frame breaks the protocol, after an authenticated start: the caller gets the close code RFC 6455
// names for it, the socket goes, and the record says protocol_error with why.
BOOST_AUTO_TEST_CASE(a_frame_that_breaks_the_protocol_is_answered_with_its_close_code_and_recorded) {
  auto config = gateway_config();
  config.admin_token = test_admin_token;
  gateway gw(config, greeting_agent());
  std::string unmasked;
  net::append_frame(unmasked, kind::text, "{}");
  struct violation {
    const char* name;
    std::string frame;
    int close_code;
    const char* end_reason;
  };
  const std::vector<violation> violations{
      {"an unmasked frame", unmasked, 1002, "websocket protocol error"},
      {"a reserved opcode", std::string("\x83\x80\0\0\0\0", 6), 1002, "websocket protocol error"},
      {"a fragmented ping", std::string("\x09\x80\0\0\0\0", 6), 1002, "websocket protocol error"},
      {"a continuation with no message", masked(kind::text, "{}", net::ws_fragment::last), 1002, "websocket protocol error"},
      {"text that is not UTF-8", masked(kind::text, "{\"event\":\"\xC0\xAF\"}"), 1007, "text not UTF-8"},
  };
  char letter = 'a';
  for (const auto& v : violations) {
    const std::string call_sid = "CA" + std::string(32, letter++);
    const std::string bytes = masked(kind::text, start_without_token(call_sid)) + v.frame;
    const auto s = gw.run(talk(gw.port, stream_signature(gw.server->config()), bytes, 1, 1));
    gw.settle();
    BOOST_TEST(s.close_code == v.close_code, v.name << ": the peer saw " << s.close_code);
    const auto record = call_record(gw, call_sid);
    BOOST_TEST(std::string(record.at("outcome").as_string()) == "protocol_error", v.name);
    BOOST_TEST(std::string(record.at("end_reason").as_string()) == v.end_reason, v.name);
  }
}

BOOST_AUTO_TEST_SUITE_END()
