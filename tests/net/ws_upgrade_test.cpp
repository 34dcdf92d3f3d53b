// The client's opening handshake without a socket: the key is a fresh 16-byte nonce, the accept value is the
// RFC's own example, and an answer is refused for each thing section 4.1 tells a client to check.
#include <boost/beast/websocket/error.hpp>
#include <boost/test/unit_test.hpp>
#include <set>

#include "net/ws_upgrade.hpp"
#include "voicebridge/util/base64.hpp"

using namespace voicebridge;
namespace websocket = boost::beast::websocket;

namespace {
net::ws_upgrade_answer good_answer(const std::string& accept) {
  return {101, "websocket", "Upgrade", accept};
}
}  // namespace

BOOST_AUTO_TEST_SUITE(ws_upgrade)

BOOST_AUTO_TEST_CASE(a_key_is_sixteen_fresh_random_bytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto key = net::make_ws_key();
    const auto bytes = util::base64_decode(key);
    BOOST_TEST_REQUIRE(bytes.has_value());
    BOOST_TEST(bytes->size() == 16u);
    seen.insert(key);
  }
  BOOST_TEST(seen.size() == 100u);
}

BOOST_AUTO_TEST_CASE(the_accept_value_is_the_rfcs_example) {
  // RFC 6455, section 1.3.
  BOOST_TEST(net::ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

BOOST_AUTO_TEST_CASE(a_proper_answer_is_accepted_whatever_the_case_and_the_other_connection_tokens) {
  const std::string key = net::make_ws_key();
  const std::string accept = net::ws_accept_for(key);
  BOOST_TEST(!net::check_ws_upgrade_answer(good_answer(accept), key));
  BOOST_TEST(!net::check_ws_upgrade_answer({101, "WebSocket", "keep-alive, UPGRADE", accept}, key));
}

BOOST_AUTO_TEST_CASE(each_thing_a_client_must_check_is_checked) {
  const std::string key = net::make_ws_key();
  const std::string accept = net::ws_accept_for(key);
  auto answer = good_answer(accept);
  answer.status = 403;
  BOOST_TEST((net::check_ws_upgrade_answer(answer, key) == websocket::error::upgrade_declined));
  answer.status = 200;
  BOOST_TEST((net::check_ws_upgrade_answer(answer, key) == websocket::error::upgrade_declined));
  BOOST_TEST((net::check_ws_upgrade_answer({101, "", "Upgrade", accept}, key) == websocket::error::no_upgrade));
  BOOST_TEST((net::check_ws_upgrade_answer({101, "h2c", "Upgrade", accept}, key) == websocket::error::no_upgrade_websocket));
  BOOST_TEST((net::check_ws_upgrade_answer({101, "websocket", "", accept}, key) == websocket::error::no_connection));
  BOOST_TEST((net::check_ws_upgrade_answer({101, "websocket", "keep-alive", accept}, key) ==
              websocket::error::no_connection_upgrade));
  BOOST_TEST((net::check_ws_upgrade_answer({101, "websocket", "Upgrade", ""}, key) == websocket::error::no_sec_accept));
  // The accept value for another key: a server (or a cache) answering somebody else's request.
  const std::string other = net::ws_accept_for(net::make_ws_key());
  BOOST_TEST((net::check_ws_upgrade_answer({101, "websocket", "Upgrade", other}, key) == websocket::error::bad_sec_accept));
}

BOOST_AUTO_TEST_SUITE_END()
