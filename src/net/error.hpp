// The network layer's own failures, as error codes of one category (beside the codes Asio, OpenSSL and Beast
// report, which pass through unchanged), and the step of a connection a failure happened in.
#pragma once
#include <boost/system/error_code.hpp>
#include <string>
#include <type_traits>

namespace voicebridge::net {

enum class error {
  not_a_service_url = 1,  // not http(s):// or ws(s)://host[:port][/path]
  no_tls_context,         // a TLS address, and nobody gave a client TLS context
  upgrade_refused,        // the WebSocket upgrade was answered with another HTTP status
  response_too_large,     // an HTTP body over the limit the caller set
  timed_out,              // the caller's deadline passed first
  ws_protocol_error,      // the peer broke the WebSocket protocol (net::ws_frame_reader::failure() says how)
};

const boost::system::error_category& error_category();
inline boost::system::error_code make_error_code(error e) { return {static_cast<int>(e), error_category()}; }

// Where a connection failed: a failure's description names the step ("TLS handshake: certificate verify
// failed"), and the operator knows where to look.
enum class step { none, resolve, connect, tls_handshake, upgrade, send, read };

// "TLS handshake: ..." for a failure in a step, the code's message alone for step::none.
std::string describe(step where, const boost::system::error_code& ec);

}  // namespace voicebridge::net

template <>
struct boost::system::is_error_code_enum<voicebridge::net::error> : std::true_type {};
