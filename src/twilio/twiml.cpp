#include "voicebridge/twilio/twiml.hpp"

#include <tinyxml2.h>

#include <algorithm>

namespace voicebridge::twilio {
namespace {

// A document with the XML declaration and an empty <Response>, which the renderers fill.
struct twiml_document {
  tinyxml2::XMLDocument doc;
  tinyxml2::XMLElement* response;

  twiml_document() {
    doc.InsertEndChild(doc.NewDeclaration());  // <?xml version="1.0" encoding="UTF-8"?>
    response = doc.NewElement("Response");
    doc.InsertEndChild(response);
  }

  tinyxml2::XMLElement* add(tinyxml2::XMLElement* parent, const char* name) {
    auto* element = doc.NewElement(name);
    parent->InsertEndChild(element);
    return element;
  }

  std::string str() {
    tinyxml2::XMLPrinter printer(nullptr, /*compact=*/true);
    doc.Print(&printer);
    return {printer.CStr(), static_cast<std::size_t>(printer.CStrSize() - 1)};
  }
};

}  // namespace

std::string render_connect_stream(const connect_stream_twiml& twiml) {
  twiml_document d;
  auto* connect = d.add(d.response, "Connect");
  if (!twiml.connect_action.empty()) {
    connect->SetAttribute("action", twiml.connect_action.c_str());
    connect->SetAttribute("method", "POST");
  }
  auto* stream = d.add(connect, "Stream");
  stream->SetAttribute("url", twiml.stream_url.c_str());
  for (const auto& [name, value] : twiml.parameters) {
    auto* parameter = d.add(stream, "Parameter");
    parameter->SetAttribute("name", name.c_str());
    parameter->SetAttribute("value", value.c_str());
  }
  // Runs when <Connect> ends without an action URL: the call ends instead of staying on a silent line.
  d.add(d.response, "Hangup");
  return d.str();
}

std::string render_say_hangup(const std::string& text, const std::string& language) {
  twiml_document d;
  auto* say = d.add(d.response, "Say");
  if (!language.empty()) say->SetAttribute("language", language.c_str());
  say->SetText(text.c_str());
  d.add(d.response, "Hangup");
  return d.str();
}

std::string render_hangup() {
  twiml_document d;
  d.add(d.response, "Hangup");
  return d.str();
}

std::string render_dial(const std::string& number) {
  twiml_document d;
  d.add(d.response, "Dial")->SetText(number.c_str());
  return d.str();
}

bool is_e164(std::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+' || number[1] == '0') return false;
  return std::all_of(number.begin() + 1, number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace voicebridge::twilio
