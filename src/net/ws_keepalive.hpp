// Beast's keep-alive for a client WebSocket (websocket::stream_base::timeout: idle_timeout with keep_alive_pings),
// without I/O: net::ws_client ticks it on one timer per connection and does what it says; unit-tested without a
// socket (tests/net/ws_keepalive_test.cpp).
#pragma once

namespace voicebridge::net {

// The owner ticks it at half the idle timeout: a tick after which nothing came sends a ping, and the next one,
// if still nothing came, drops the connection (so a silent peer goes after one to one and a half idle timeouts).
class ws_keepalive {
 public:
  enum class action { nothing, ping, drop };
  void heard() { heard_ = true; }
  action tick() {
    if (heard_) {
      heard_ = pinged_ = false;
      return action::nothing;
    }
    if (pinged_) return action::drop;
    pinged_ = true;
    return action::ping;
  }

 private:
  bool heard_ = false;   // bytes came since the last tick
  bool pinged_ = false;  // our ping is out, unanswered
};

}  // namespace voicebridge::net
