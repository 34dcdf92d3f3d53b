#include "call/outbound_queue.hpp"

#include <vector>

#include "util/recycled_text.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::call {

std::size_t outbound_queue::size_of(const item& i) {
  if (const auto* text = std::get_if<std::string>(&i)) return text->size();
  if (const auto* audio = std::get_if<caller_audio>(&i)) return audio->payload.size();
  return 0;
}

bool outbound_queue::push(item next) {
  const auto size = size_of(next);
  if (queued_bytes_ + size > max_bytes_) return false;
  queued_bytes_ += size;
  items_.push_back(std::move(next));
  return true;
}

outbound_queue::caller_audio* outbound_queue::queued_audio() {
  return items_.empty() ? nullptr : std::get_if<caller_audio>(&items_.front());
}

std::optional<outbound_queue::write> outbound_queue::take(std::string_view stream_sid) {
  if (items_.empty()) return std::nullopt;
  item next = std::move(items_.front());
  items_.pop_front();
  dequeued(size_of(next));
  write out;
  if (auto* close = std::get_if<close_request>(&next)) {
    out.close = std::move(*close);
  } else if (auto* audio = std::get_if<caller_audio>(&next)) {
    out.text = media_text(*audio, stream_sid, out.merged_chunks);
  } else {
    out.text = std::move(std::get<std::string>(next));
  }
  return out;
}

std::string outbound_queue::media_text(caller_audio& first, std::string_view stream_sid, std::size_t& merged) {
  std::string text = util::recycled_text();  // in a string a writer gave back
  caller_audio* next = queued_audio();
  if (!next) {
    twilio::serialize_media(text, stream_sid, first.payload);
    util::recycle_text(std::move(first.payload));
    return text;
  }
  auto audio = util::base64_decode(first.payload).value_or(std::vector<std::uint8_t>{});  // valid: checked on arrival
  util::recycle_text(std::move(first.payload));
  for (; next && audio.size() + util::base64_decoded_size(next->payload) <= max_coalesced_audio; next = queued_audio()) {
    if (auto more = util::base64_decode(next->payload)) audio.insert(audio.end(), more->begin(), more->end());
    dequeued(next->payload.size());
    util::recycle_text(std::move(next->payload));
    items_.pop_front();
    ++merged;
  }
  twilio::serialize_media(text, stream_sid, util::base64_encode(audio));
  return text;
}

}  // namespace voicebridge::call
