#include <tinyxml2.h>

#include <boost/test/unit_test.hpp>

#include "voicebridge/twilio/twiml.hpp"

using namespace voicebridge::twilio;

BOOST_AUTO_TEST_SUITE(twiml)

BOOST_AUTO_TEST_CASE(connect_stream_parses_back_with_parameters_escaped) {
  connect_stream_twiml t{"wss://gw.example.com/ws/twilio/stream",
                         "https://gw.example.com/api/twilio/voice/stream-ended",
                         {{"stream_token", "v1.1.abc"}, {"from", "\"Bob\" <&> 'x'"}}};
  const auto xml = render_connect_stream(t);
  BOOST_TEST(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  BOOST_TEST(xml.find("&amp;") != std::string::npos);  // never a raw '&' (Twilio error 12100)
  tinyxml2::XMLDocument doc;
  BOOST_TEST_REQUIRE(doc.Parse(xml.c_str()) == tinyxml2::XML_SUCCESS);
  auto* connect = doc.FirstChildElement("Response")->FirstChildElement("Connect");
  BOOST_TEST(std::string(connect->Attribute("action")) == t.connect_action);
  auto* stream = connect->FirstChildElement("Stream");
  BOOST_TEST(std::string(stream->Attribute("url")) == t.stream_url);
  auto* p = stream->FirstChildElement("Parameter");
  BOOST_TEST(std::string(p->Attribute("name")) == "stream_token");
  p = p->NextSiblingElement("Parameter");
  BOOST_TEST(std::string(p->Attribute("value")) == "\"Bob\" <&> 'x'");
  // A verb after </Connect>, so a stream that ends without an action never leaves silence.
  BOOST_TEST(connect->NextSiblingElement("Hangup") != nullptr);
}

BOOST_AUTO_TEST_CASE(say_hangup_escapes_text) {
  const auto xml = render_say_hangup("Fish & chips <now>", "en-GB");
  tinyxml2::XMLDocument doc;
  BOOST_TEST_REQUIRE(doc.Parse(xml.c_str()) == tinyxml2::XML_SUCCESS);
  auto* say = doc.FirstChildElement("Response")->FirstChildElement("Say");
  BOOST_TEST(std::string(say->GetText()) == "Fish & chips <now>");
  BOOST_TEST(std::string(say->Attribute("language")) == "en-GB");
  BOOST_TEST(say->NextSiblingElement("Hangup") != nullptr);
  BOOST_TEST(render_hangup() == "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>");
}

BOOST_AUTO_TEST_SUITE_END()
