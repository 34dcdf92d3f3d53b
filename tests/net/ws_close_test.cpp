// The close handshake without a socket: the peer's close answered only when it came first, never after a
// failure; what the writer does once its own close frame is out, in each of the three ways a connection ends.
#include <boost/test/unit_test.hpp>

#include "net/ws_close.hpp"

using voicebridge::net::ws_close_handshake;
using then = ws_close_handshake::then;

BOOST_AUTO_TEST_SUITE(ws_close)

BOOST_AUTO_TEST_CASE(the_peer_closing_first_is_answered_and_then_the_connection_drops) {
  ws_close_handshake h;
  BOOST_TEST(h.on_peer_close(false));
  BOOST_TEST(h.answering());
  BOOST_TEST(h.peer_closed());
  BOOST_TEST((h.after_our_close() == then::drop));
}

BOOST_AUTO_TEST_CASE(closing_first_waits_for_the_peers_close_which_is_not_answered) {
  ws_close_handshake h;
  BOOST_TEST((h.after_our_close() == then::await_peer_close));  // ours is out, the peer's not yet in
  BOOST_TEST(!h.on_peer_close(true));                            // it answers ours
  BOOST_TEST(!h.answering());
  BOOST_TEST((h.after_our_close() == then::drop));
}

BOOST_AUTO_TEST_CASE(after_a_failure_nothing_is_answered_and_the_connection_drains) {
  ws_close_handshake h;
  h.on_read_failed();
  BOOST_TEST(h.failed());
  BOOST_TEST((h.after_our_close() == then::drain_then_drop));
  BOOST_TEST(!h.on_peer_close(false));  // cannot happen through a reader that stopped, and would not be answered
  BOOST_TEST((h.after_our_close() == then::drain_then_drop));
}

BOOST_AUTO_TEST_SUITE_END()
