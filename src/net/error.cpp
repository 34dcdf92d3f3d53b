#include "net/error.hpp"

namespace voicebridge::net {

namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "voicebridge.net"; }
  std::string message(int code) const override {
    switch (static_cast<error>(code)) {
      case error::not_a_service_url: return "not an http(s):// or ws(s):// URL";
      case error::no_tls_context: return "no TLS context for a TLS address";
      case error::upgrade_refused: return "upgrade refused";
      case error::response_too_large: return "response over its size limit";
      case error::timed_out: return "timed out";
      case error::ws_protocol_error: return "WebSocket protocol error";
    }
    return "unknown network error";
  }
};

const char* step_name(step where) {
  switch (where) {
    case step::none: return "";
    case step::resolve: return "resolve";
    case step::connect: return "connect";
    case step::tls_handshake: return "TLS handshake";
    case step::upgrade: return "upgrade";
    case step::send: return "send";
    case step::read: return "read";
  }
  return "";
}

}  // namespace

const boost::system::error_category& error_category() {
  static const category instance;
  return instance;
}

std::string describe(step where, const boost::system::error_code& ec) {
  if (where == step::none) return ec.message();
  return std::string(step_name(where)) + ": " + ec.message();
}

}  // namespace voicebridge::net
