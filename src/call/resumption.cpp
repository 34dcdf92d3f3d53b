#include "call/resumption.hpp"

namespace voicebridge::call {

std::string resumption_context(const std::vector<records::transcript_line>& lines, std::size_t max_bytes) {
  if (lines.empty()) return {};
  const std::string preface =
      "The phone line dropped and the caller has just been reconnected to you. Do not start over: continue "
      "the conversation from where it was. What was said before the drop:\n";
  std::vector<std::string> kept;  // newest first
  std::size_t size = preface.size();
  for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
    std::string text = (line->role == "user" ? "Caller: " : "Agent: ") + line->text + "\n";
    if (size + text.size() > max_bytes) break;
    size += text.size();
    kept.push_back(std::move(text));
  }
  std::string out = preface;
  out.reserve(size);
  for (auto line = kept.rbegin(); line != kept.rend(); ++line) out += *line;
  return out;
}

}  // namespace voicebridge::call
