// What the caller actually heard of one synthesized agent turn. Every audio chunk sent toward Twilio is
// followed by a mark; Twilio echoes a mark when the audio before it has played. The chunk's text comes from
// the TTS alignment, so on a barge-in the history keeps exactly the words that were played.
#pragma once
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>

namespace voicebridge::pipeline {

class spoken_turn {
 public:
  // A chunk went out, speaking `text`, followed by the mark `mark`.
  void sent(std::string mark, std::string text) {
    if (interrupted_) return;
    unplayed_.emplace_back(std::move(mark), std::move(text));
  }
  // Twilio played up to `mark` (marks come back in order; an unknown one changes nothing).
  void played(std::string_view mark) {
    if (interrupted_) return;
    for (std::size_t i = 0; i < unplayed_.size(); ++i) {
      if (unplayed_[i].first != mark) continue;
      for (std::size_t j = 0; j <= i; ++j) heard_ += unplayed_[j].second;
      unplayed_.erase(unplayed_.begin(), unplayed_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      return;
    }
  }
  // The caller spoke over it: what was heard is final. (Twilio echoes the marks of cleared audio too;
  // they no longer count.)
  void interrupt() {
    interrupted_ = true;
    unplayed_.clear();
  }

  bool playing() const { return !unplayed_.empty(); }
  bool interrupted() const { return interrupted_; }
  // The heard text, without the trailing spaces the TTS input carries.
  std::string heard() const {
    const auto end = heard_.find_last_not_of(' ');
    return end == std::string::npos ? std::string() : heard_.substr(0, end + 1);
  }

 private:
  std::deque<std::pair<std::string, std::string>> unplayed_;
  std::string heard_;
  bool interrupted_ = false;
};

}  // namespace voicebridge::pipeline
