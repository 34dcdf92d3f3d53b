// The one URL parser of the outbound side, and how a network failure is described.
#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include "net/address.hpp"
#include "net/error.hpp"

using namespace voicebridge::net;

BOOST_AUTO_TEST_SUITE(service_addresses)

BOOST_AUTO_TEST_CASE(schemes_give_tls_and_default_ports) {
  const auto https = parse_service_url("https://api.elevenlabs.io");
  BOOST_REQUIRE(https.has_value());
  BOOST_TEST(https->tls);
  BOOST_TEST(https->port == "443");
  BOOST_TEST(https->target == "/");
  const auto ws = parse_service_url("ws://127.0.0.1:8081/v1/convai?agent_id=a&x=1");
  BOOST_REQUIRE(ws.has_value());
  BOOST_TEST(!ws->tls);
  BOOST_TEST(ws->scheme == "ws");
  BOOST_TEST(ws->host == "127.0.0.1");
  BOOST_TEST(ws->port == "8081");
  BOOST_TEST(ws->target == "/v1/convai?agent_id=a&x=1");
  BOOST_TEST(parse_service_url("wss://eu.residency.example/x")->port == "443");
  BOOST_TEST(parse_service_url("http://localhost/v1")->port == "80");
}

BOOST_AUTO_TEST_CASE(anything_else_is_refused) {
  for (const char* url : {"", "api.elevenlabs.io", "ftp://host/", "https://", "http:///path", "not a url"})
    BOOST_TEST(!parse_service_url(url).has_value(), url);
}

BOOST_AUTO_TEST_CASE(failures_name_their_step_and_our_codes_have_our_category) {
  const boost::system::error_code refused = boost::asio::error::connection_refused;
  BOOST_TEST(describe(step::connect, refused).starts_with("connect: "));
  BOOST_TEST(describe(step::tls_handshake, refused).starts_with("TLS handshake: "));
  const boost::system::error_code ours = error::no_tls_context;
  BOOST_TEST(std::string(ours.category().name()) == "voicebridge.net");
  BOOST_TEST(describe(step::none, ours) == "no TLS context for a TLS address");
  BOOST_TEST((ours == error::no_tls_context));
  BOOST_TEST((ours != error::upgrade_refused));
}

BOOST_AUTO_TEST_SUITE_END()
