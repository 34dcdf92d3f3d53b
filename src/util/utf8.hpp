// UTF-8 well-formedness, for what must be valid text on the way out (XML, JSON log lines).
#pragma once
#include <cstddef>
#include <string_view>

namespace voicebridge::util {

// The length of the UTF-8 sequence that starts `text` (a well-formed one: no overlong forms, surrogates or
// code points past U+10FFFF), or 0 if it does not start one.
inline std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto continuation = [&](std::size_t i, unsigned char low = 0x80, unsigned char high = 0xBF) {
    return i < text.size() && byte(i) >= low && byte(i) <= high;
  };
  if (text.empty()) return 0;
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    const bool second = lead == 0xE0 ? continuation(1, 0xA0) : lead == 0xED ? continuation(1, 0x80, 0x9F) : continuation(1);
    return second && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    const bool second = lead == 0xF0 ? continuation(1, 0x90) : lead == 0xF4 ? continuation(1, 0x80, 0x8F) : continuation(1);
    return second && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

// True if XML can carry `text` exactly (Extensible Markup Language 1.0, section 2.2 "Characters"): well-formed
// UTF-8 of characters XML allows, so no C0 control but tab, LF and CR, no NUL, no U+FFFE or U+FFFF. What TwiML
// carries (twilio/twiml.cpp) and the texts configured for it are checked with this.
inline bool is_xml_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = util::utf8_sequence_length(text.substr(i));
    if (n == 0) return false;
    const auto lead = static_cast<unsigned char>(text[i]);
    if (n == 1 && lead < 0x20 && lead != '\t' && lead != '\n' && lead != '\r') return false;
    // U+FFFE and U+FFFF: EF BF BE, EF BF BF.
    if (n == 3 && lead == 0xEF && static_cast<unsigned char>(text[i + 1]) == 0xBF &&
        static_cast<unsigned char>(text[i + 2]) >= 0xBE)
      return false;
    i += n;
  }
  return true;
}

}  // namespace voicebridge::util
