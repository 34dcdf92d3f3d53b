#include "util/simple_json.hpp"

#include <charconv>

#include "util/byte_blocks.hpp"

namespace voicebridge::util {

bool simple_json_object::parse(std::string_view text) {
  text_ = text;
  at_ = 0;
  count_ = 0;
  skip_space();
  if (!parse_object({}, false)) return false;
  skip_space();
  return at_ == text_.size();
}

namespace {

// Keys are short and many have the same length ("event", "media", "track", "chunk"): the first character
// settles most comparisons without a call to memcmp.
bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || (a[0] == b[0] && a == b));
}

// Where a simple string starting at `p` stops: its closing quote, or the first character it may not hold
// (a control character, one outside printable ASCII, a backslash); `end` when there is none.
const char* string_stop(const char* p, const char* end) {
  using namespace blocks;
  for (; static_cast<std::size_t>(end - p) >= width; p += width) {
    const block b = load(p);
    const std::size_t i = first_set(~in_range(b, 0x20, 0x7E) | equal(b, '"') | equal(b, '\\'));
    if (i != width) return p + i;
  }
  for (; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return p;
  }
  return end;
}

}  // namespace

const simple_json_object::field* simple_json_object::find(std::string_view parent, std::string_view key) const {
  for (std::size_t i = 0; i < count_; ++i)
    if (same(fields_[i].key, key) && same(fields_[i].parent, parent)) return &fields_[i];
  return nullptr;
}

// A repeated key is Boost.JSON's to judge. Only the fields of the object being read can repeat it: those
// from `first` on that share its parent, which is the very same view of the enclosing key.
bool simple_json_object::add(const field& f, std::size_t first) {
  if (count_ == fields_.size()) return false;
  for (std::size_t i = first; i < count_; ++i)
    if (fields_[i].parent.data() == f.parent.data() && same(fields_[i].key, f.key)) return false;
  fields_[count_++] = f;
  return true;
}

void simple_json_object::skip_space() {
  while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t'))
    ++at_;
}

// At an opening quote: the characters up to the closing one, if all are printable ASCII other than '\'.
bool simple_json_object::parse_string(std::string_view& out) {
  if (at_ >= text_.size() || text_[at_] != '"') return false;
  const char* const begin = text_.data() + at_ + 1;
  const char* const stop = string_stop(begin, text_.data() + text_.size());
  if (stop == text_.data() + text_.size() || *stop != '"') return false;
  out = std::string_view(begin, static_cast<std::size_t>(stop - begin));
  at_ = static_cast<std::size_t>(stop - text_.data()) + 1;
  return true;
}

bool simple_json_object::parse_object(std::string_view parent, bool nested) {
  if (at_ >= text_.size() || text_[at_] != '{') return false;
  ++at_;
  skip_space();
  if (at_ < text_.size() && text_[at_] == '}') {
    ++at_;
    return true;
  }
  const std::size_t first = count_;
  for (;;) {
    field f{parent, {}, {}, kind::string};
    if (!parse_string(f.key)) return false;
    skip_space();
    if (at_ >= text_.size() || text_[at_] != ':') return false;
    ++at_;
    skip_space();
    if (at_ >= text_.size()) return false;
    const char c = text_[at_];
    if (c == '"') {
      if (!parse_string(f.value)) return false;
    } else if (c >= '0' && c <= '9') {
      const std::size_t begin = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      f.value = text_.substr(begin, at_ - begin);
      f.type = kind::integer;
      if (f.value.size() > 18 || (f.value.size() > 1 && f.value[0] == '0')) return false;
      if (at_ < text_.size() && (text_[at_] == '.' || text_[at_] == 'e' || text_[at_] == 'E')) return false;
    } else if (c == '{' && !nested && !f.key.empty()) {  // an empty key would read as the top level
      f.type = kind::object;
      if (!add(f, first) || !parse_object(f.key, true)) return false;
    } else {
      return false;  // arrays, literals, negative numbers, deeper objects
    }
    if (f.type != kind::object && !add(f, first)) return false;
    skip_space();
    if (at_ >= text_.size()) return false;
    if (text_[at_] == '}') {
      ++at_;
      return true;
    }
    if (text_[at_] != ',') return false;
    ++at_;
    skip_space();
  }
}

std::optional<std::uint64_t> simple_counter(const simple_json_object::field& f) {
  if (f.type == simple_json_object::kind::object || f.value.empty()) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(f.value.data(), f.value.data() + f.value.size(), n);
  if (ec != std::errc() || end != f.value.data() + f.value.size()) return std::nullopt;
  return n;
}

}  // namespace voicebridge::util
