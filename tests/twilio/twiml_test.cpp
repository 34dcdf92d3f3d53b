#include <tinyxml2.h>

#include <boost/test/unit_test.hpp>
#include <optional>

#include "util/utf8.hpp"
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

namespace {

// The value of <Parameter name="v"> in `xml`, as tinyxml2 (an XML parser, the oracle) reads it; nullopt if the
// document is not well-formed.
std::optional<std::string> parameter_read_back(const std::string& xml) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(xml.c_str(), xml.size()) != tinyxml2::XML_SUCCESS) return std::nullopt;
  auto* p = doc.FirstChildElement("Response")->FirstChildElement("Connect")->FirstChildElement("Stream")->FirstChildElement("Parameter");
  return std::string(p->Attribute("value"));
}

std::string with_parameter(const std::string& value) {
  return render_connect_stream({"wss://gw.example.com/ws/twilio/stream", "", {{"v", value}}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(twiml)

// Every byte value, between letters: what XML can carry (tab, LF, CR included) reads back exactly; anything
// else (other C0 controls, NUL, a lone byte that is not UTF-8) is refused by is_xml_text, and even then the
// document is well-formed.
BOOST_AUTO_TEST_CASE(every_byte_value_round_trips_or_is_refused_and_the_document_stays_well_formed) {
  for (int b = 0; b < 256; ++b) {
    const std::string value = std::string("a") + static_cast<char>(b) + "z";
    const auto read = parameter_read_back(with_parameter(value));
    BOOST_TEST_REQUIRE(read.has_value(), "byte " << b << " made the TwiML ill-formed");
    const bool representable = b == '\t' || b == '\n' || b == '\r' || (b >= 0x20 && b < 0x80);
    BOOST_TEST(voicebridge::util::is_xml_text(value) == representable, "byte " << b);
    if (representable) BOOST_TEST(*read == value, "byte " << b << " came back changed");
    else BOOST_TEST(*read == "a\xEF\xBF\xBDz", "byte " << b);
  }
}

BOOST_AUTO_TEST_CASE(whitespace_markup_and_unicode_read_back_exactly) {
  for (std::string value : {"\tx\ty", "line\nbreak", "cr\rlf\r\n", "  two  spaces  ", "&amp; <b> \"q\" 'a'",
                            "Zo\xC3\xAB \xE6\x97\xA5 \xF0\x9F\x8E\xA7", "]]>", "&#10;"}) {
    BOOST_TEST(voicebridge::util::is_xml_text(value));
    BOOST_TEST((parameter_read_back(with_parameter(value)) == std::optional(value)), value);
  }
  const auto say = render_say_hangup("one\r\ntwo\tthree", "en-US");
  tinyxml2::XMLDocument doc;
  BOOST_TEST_REQUIRE(doc.Parse(say.c_str()) == tinyxml2::XML_SUCCESS);
  BOOST_TEST(std::string(doc.FirstChildElement("Response")->FirstChildElement("Say")->GetText()) == "one\r\ntwo\tthree");
}

BOOST_AUTO_TEST_CASE(a_nul_no_longer_cuts_a_value_and_non_characters_are_not_xml) {
  const std::string value("before\0after", 12);
  BOOST_TEST(!voicebridge::util::is_xml_text(value));
  BOOST_TEST((parameter_read_back(with_parameter(value)) == std::optional<std::string>("before\xEF\xBF\xBD" "after")));
  for (std::string bad : {"\xEF\xBF\xBE", "\xEF\xBF\xBF", "\xED\xA0\x80", "\xC0\x80", "\xF4\x90\x80\x80", "\xE6\x97"})
    BOOST_TEST(!voicebridge::util::is_xml_text(bad));
  BOOST_TEST(voicebridge::util::is_xml_text("\xEF\xBF\xBD\xF4\x8F\xBF\xBF"));  // U+FFFD and U+10FFFF are characters
}

BOOST_AUTO_TEST_SUITE_END()
