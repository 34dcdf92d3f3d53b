#include "voicebridge/twilio/twiml.hpp"

#include <tinyxml2.h>

#include <algorithm>

#include "util/markup.hpp"
#include "util/utf8.hpp"

namespace voicebridge::twilio {
namespace {

// What XML 1.0 can carry of `text` (Extensible Markup Language 1.0, section 2.2 "Characters": tab, LF, CR
// and U+0020 upwards, without surrogates, U+FFFE and U+FFFF), each character unchanged, and U+FFFD for anything
// else. The webhook refuses such values first (is_xml_text): this keeps a document well-formed whatever a
// caller of the renderers passes.
std::string xml_characters(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = util::utf8_sequence_length(text.substr(i));
    const bool ok = n > 0 && util::is_xml_text(text.substr(i, n));
    out += ok ? text.substr(i, n) : std::string_view("\xEF\xBF\xBD");
    i += std::max<std::size_t>(n, 1);
  }
  return out;
}

// tinyxml2's compact printer, with our escaping of attributes and text instead of its own.
class twiml_printer final : public tinyxml2::XMLPrinter {
 public:
  twiml_printer() : XMLPrinter(nullptr, /*compact=*/true) {}

  bool VisitEnter(const tinyxml2::XMLElement& element, const tinyxml2::XMLAttribute* attribute) override {
    OpenElement(element.Name(), true);
    for (; attribute; attribute = attribute->Next()) {
      Putc(' ');
      Write(attribute->Name());
      Write("=\"");
      Write(util::escape_markup(attribute->Value()).c_str());
      Putc('"');
    }
    return true;
  }
  bool Visit(const tinyxml2::XMLText& text) override {
    SealElementIfJustOpened();  // as PushText does, without its escaping
    Write(util::escape_markup(text.Value()).c_str());  // (util/markup.hpp: why tab, LF, CR too)
    return true;
  }
};

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

  // Values are stored as C strings: through xml_characters first, so a NUL cannot cut one short.
  static void set(tinyxml2::XMLElement* element, const char* attribute, std::string_view value) {
    element->SetAttribute(attribute, xml_characters(value).c_str());
  }
  static void set_text(tinyxml2::XMLElement* element, std::string_view text) {
    element->SetText(xml_characters(text).c_str());
  }

  std::string str() {
    twiml_printer printer;
    doc.Print(&printer);
    return {printer.CStr(), static_cast<std::size_t>(printer.CStrSize() - 1)};
  }
};

}  // namespace

std::string render_connect_stream(const connect_stream_twiml& twiml) {
  twiml_document d;
  auto* connect = d.add(d.response, "Connect");
  if (!twiml.connect_action.empty()) {
    d.set(connect, "action", twiml.connect_action);
    connect->SetAttribute("method", "POST");
  }
  auto* stream = d.add(connect, "Stream");
  d.set(stream, "url", twiml.stream_url);
  for (const auto& [name, value] : twiml.parameters) {
    auto* parameter = d.add(stream, "Parameter");
    d.set(parameter, "name", name);
    d.set(parameter, "value", value);
  }
  // Runs when <Connect> ends without an action URL: the call ends instead of staying on a silent line.
  d.add(d.response, "Hangup");
  return d.str();
}

std::string render_say_hangup(const std::string& text, const std::string& language) {
  twiml_document d;
  auto* say = d.add(d.response, "Say");
  if (!language.empty()) d.set(say, "language", language);
  d.set_text(say, text);
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
  d.set_text(d.add(d.response, "Dial"), number);
  return d.str();
}

bool is_e164(std::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+' || number[1] == '0') return false;
  return std::all_of(number.begin() + 1, number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace voicebridge::twilio
