#include "server/byte_ranges.hpp"

#include <charconv>
#include <optional>

namespace voicebridge::server {
namespace {

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t n = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

range_choice choose_range(std::string_view header, std::uint64_t size) {
  constexpr std::string_view unit = "bytes=";
  header = trimmed(header);
  if (!header.starts_with(unit)) return {};
  const std::string_view spec = trimmed(header.substr(unit.size()));
  if (spec.find(',') != std::string_view::npos) return {};  // several ranges: the whole file, not multipart
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  const auto first = spec.substr(0, dash), last = spec.substr(dash + 1);
  const range_choice unsatisfiable{range_choice::kind::unsatisfiable, {}};
  if (first.empty()) {  // "-N": the last N bytes
    const auto suffix = number(last);
    if (!suffix) return {};
    if (*suffix == 0 || size == 0) return unsatisfiable;
    return {range_choice::kind::part, {*suffix >= size ? 0 : size - *suffix, size - 1}};
  }
  const auto from = number(first);
  if (!from) return {};
  std::uint64_t to = size == 0 ? 0 : size - 1;
  if (!last.empty()) {
    const auto until = number(last);
    if (!until || *until < *from) return {};  // not a valid range: ignored
    to = std::min(to, *until);
  }
  if (*from >= size) return unsatisfiable;
  return {range_choice::kind::part, {*from, to}};
}

std::string content_range(const range_choice& choice, std::uint64_t size) {
  if (choice.what == range_choice::kind::part)
    return "bytes " + std::to_string(choice.range.first) + "-" + std::to_string(choice.range.last) + "/" + std::to_string(size);
  return "bytes */" + std::to_string(size);
}

}  // namespace voicebridge::server
