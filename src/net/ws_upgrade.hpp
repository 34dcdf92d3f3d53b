// The client's side of the WebSocket opening handshake, without I/O (The WebSocket Protocol, RFC 6455, section
// 4.1): the key a request carries, and whether a server's answer accepts it. net::ws_client sends the request
// and reads the answer; unit-tested without a socket (tests/net/ws_upgrade_test.cpp).
#pragma once
#include <boost/system/error_code.hpp>
#include <string>
#include <string_view>

namespace voicebridge::net {

// A Sec-WebSocket-Key: 16 random bytes, base64 (section 4.1: "randomly selected", a nonce per connection).
std::string make_ws_key();

// The Sec-WebSocket-Accept a server derives from `key` (section 4.2.2, step 5.4): base64 of the SHA-1 of the key
// and the protocol's GUID.
std::string ws_accept_for(std::string_view key);

// What the client checks in the server's answer (section 4.1, "the client MUST validate the server's
// response"): 101, `Upgrade: websocket`, a `Connection` that lists `upgrade`, and the accept value for our key.
// Beast's websocket error codes name what is wrong (upgrade_declined for another status).
struct ws_upgrade_answer {
  unsigned status = 0;
  std::string_view upgrade, connection, accept;
};
boost::system::error_code check_ws_upgrade_answer(const ws_upgrade_answer& answer, std::string_view key);

}  // namespace voicebridge::net
