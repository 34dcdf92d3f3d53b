// The keep-alive's decisions without a socket: a quiet tick pings, a second quiet tick drops, and anything heard
// in between (the pong, or any frame) starts over.
#include <boost/test/unit_test.hpp>

#include "net/ws_keepalive.hpp"

using voicebridge::net::ws_keepalive;
using action = ws_keepalive::action;

BOOST_AUTO_TEST_SUITE(ws_keepalive_ticks)

BOOST_AUTO_TEST_CASE(a_silent_peer_is_pinged_then_dropped) {
  ws_keepalive k;
  BOOST_TEST((k.tick() == action::ping));
  BOOST_TEST((k.tick() == action::drop));
  BOOST_TEST((k.tick() == action::drop));
}

BOOST_AUTO_TEST_CASE(an_answered_ping_keeps_the_connection_and_pings_again_after_the_next_quiet_tick) {
  ws_keepalive k;
  BOOST_TEST((k.tick() == action::ping));
  k.heard();  // the pong
  BOOST_TEST((k.tick() == action::nothing));
  BOOST_TEST((k.tick() == action::ping));
  k.heard();
  BOOST_TEST((k.tick() == action::nothing));
}

BOOST_AUTO_TEST_CASE(a_talking_peer_is_never_pinged) {
  ws_keepalive k;
  for (int i = 0; i < 10; ++i) {
    k.heard();
    BOOST_TEST((k.tick() == action::nothing));
  }
}

BOOST_AUTO_TEST_SUITE_END()
