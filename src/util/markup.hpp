// Text made safe inside XML or HTML markup: character data, or an attribute value in either quotes.
#pragma once
#include <string>
#include <string_view>

namespace voicebridge::util {

// & < > " ' as entity references; tab, LF and CR as character references too: an XML parser normalises them
// in an attribute (a raw tab or LF comes back as a space, XML 1.0 section 3.3.3; a CR as LF, section 2.11),
// and an HTML parser reads the references as the characters themselves. Used for TwiML (twilio/twiml.cpp)
// and the console's pages (server/console/html.hpp).
inline std::string escape_markup(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace voicebridge::util
