// The per-frame fast path of the JSON message parsers. Every 20 ms of every call brings a Twilio media message
// and an agent audio event; building a Boost.JSON DOM for each cost more instructions than the rest of the
// frame's trip together. Those messages come in a simple form, which this scanner reads in one pass into views
// of the text, with no allocation:
//   - an object whose values are strings, unsigned integers, or objects of the same (one level of nesting);
//   - strings of printable ASCII without escapes, integers of at most 18 digits without sign, fraction or
//     exponent; at most 16 fields in all, no key twice in one object.
// Anything else (valid JSON or not) is refused, and the caller parses the text with Boost.JSON, which stays
// the reference: the fuzzers and the differential tests hold the two to the same answer.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace voicebridge::util {

class simple_json_object {
 public:
  enum class kind { string, integer, object };
  struct field {
    std::string_view parent;  // "" at the top level, else the key of the enclosing object
    std::string_view key;
    std::string_view value;   // a string's characters, an integer's digits; empty for an object
    kind type;
  };

  // False when the text is not in the simple form.
  bool parse(std::string_view text);

  const field* find(std::string_view parent, std::string_view key) const;
  const field* find(std::string_view key) const { return find({}, key); }

 private:
  bool parse_object(std::string_view parent, bool nested);
  bool parse_string(std::string_view& out);
  bool add(const field& f, std::size_t first);
  void skip_space();

  std::string_view text_;
  std::size_t at_ = 0;
  std::array<field, 16> fields_{};
  std::size_t count_ = 0;
};

// The value of an integer field, or of a string field that is all decimal digits (as Twilio sends counters);
// nullopt otherwise.
std::optional<std::uint64_t> simple_counter(const simple_json_object::field& f);

}  // namespace voicebridge::util
