// libFuzzer: TwiML built from arbitrary webhook form values (Twilio, "TwiML for Programmable Voice": TwiML is
// XML), parsed back with tinyxml2 as the oracle. The document is always well-formed; every name and value that
// XML can carry (util::is_xml_text) reads back exactly, and the rest are the ones the webhook refuses.
#include <tinyxml2.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "util/utf8.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/twiml.hpp"

using namespace voicebridge;

namespace {

tinyxml2::XMLElement* parsed_response(tinyxml2::XMLDocument& doc, const std::string& xml) {
  if (doc.Parse(xml.c_str(), xml.size()) != tinyxml2::XML_SUCCESS) std::abort();  // ill-formed TwiML
  auto* response = doc.FirstChildElement("Response");
  if (!response) std::abort();
  return response;
}

std::string_view attribute(const tinyxml2::XMLElement* element, const char* name) {
  const char* value = element->Attribute(name);
  if (!value) std::abort();  // an attribute went missing
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto form = twilio::parse_form(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!form) return 0;
  twilio::connect_stream_twiml twiml{"wss://gw.example.test/ws/twilio/stream", "https://gw.example.test/a?b=1&c=2", {}};
  for (const auto& p : form->all()) {
    if (twiml.parameters.size() == 16) break;
    twiml.parameters.emplace_back(p.name, p.value);
  }
  tinyxml2::XMLDocument doc;
  auto* stream = parsed_response(doc, twilio::render_connect_stream(twiml))->FirstChildElement("Connect")->FirstChildElement("Stream");
  if (!stream) std::abort();
  const auto* element = stream->FirstChildElement("Parameter");
  for (const auto& [name, value] : twiml.parameters) {
    if (!element) std::abort();  // a parameter went missing
    if (util::is_xml_text(name) && attribute(element, "name") != name) std::abort();
    if (util::is_xml_text(value) && attribute(element, "value") != value) std::abort();
    element = element->NextSiblingElement("Parameter");
  }
  if (element) std::abort();
  for (const auto& p : form->all()) {
    tinyxml2::XMLDocument say_doc;
    auto* say = parsed_response(say_doc, twilio::render_say_hangup(p.value, p.name))->FirstChildElement("Say");
    if (!say) std::abort();
    const char* text = say->GetText();
    // tinyxml2, the oracle, may drop a text node of whitespace alone while parsing: such a value is checked for
    // well-formedness only (a property of this parser, not of the document; attributes are compared always).
    const bool only_whitespace = p.value.find_first_not_of(" \t\n\r") == std::string::npos;
    if (!only_whitespace && util::is_xml_text(p.value) && std::string_view(text ? text : "") != p.value) std::abort();
  }
  return 0;
}
