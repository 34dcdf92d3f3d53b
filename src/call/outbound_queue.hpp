// What one call has queued for Twilio, sans-I/O: the byte budget (MAX_OUTBOUND_QUEUE_BYTES, drops counted by
// the caller), and the coalescing of agent audio that piled up behind a busy socket. The call's single writer
// takes the next write from here; unit-tested without a socket (tests/call/outbound_queue_test.cpp).
#pragma once
#include <boost/circular_buffer.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "call/call_state.hpp"

namespace voicebridge::call {

// Audio that piled up leaves in messages of at most this much: 1 s of mu-law, as Twilio's own sample server
// sends ("Media Streams - WebSocket Messages", "Send a media message": the payload is base64 mu-law/8000).
constexpr std::size_t max_coalesced_audio = 8000;

class outbound_queue {
 public:
  explicit outbound_queue(std::size_t max_bytes) : max_bytes_(max_bytes), items_(capacity_type(max_slots, min_slots)) {}

  // False, and nothing queued, past the budget: the caller counts the drop.
  bool push_text(std::string text) { return push(std::move(text)); }
  bool push_audio(std::string payload_base64) { return push(caller_audio{std::move(payload_base64)}); }
  // The close goes behind what is queued, whatever the budget: it is the writer's last item.
  void push_close(close_request close) { items_.push_back(std::move(close)); }
  // Drops what is queued (Twilio's <clear>: the agent was interrupted).
  void clear() {
    items_.clear();
    queued_bytes_ = 0;
  }
  bool empty() const { return items_.empty(); }
  std::size_t queued_bytes() const { return queued_bytes_; }

  // The next write: a text message, or the close. For agent audio, the media message carries it and the audio
  // queued right behind it, up to max_coalesced_audio, so that a burst leaves in one send rather than one per
  // chunk; a mark or a clear between chunks ends the merge, so marks still follow the audio they followed. A
  // chunk alone, the usual case, passes through as it came, not decoded. Nothing waits to merge (no latency).
  struct write {
    std::string text;                    // a message to send (empty with a close)
    std::optional<close_request> close;  // the close handshake instead
    std::size_t merged_chunks = 0;       // agent audio chunks joined to the first (voicebridge_coalesced_audio_chunks)
  };
  std::optional<write> take(std::string_view stream_sid);

 private:
  // Agent audio for the caller (base64 mu-law), as the agent gave it.
  struct caller_audio {
    std::string payload;
  };
  using item = std::variant<std::string, caller_audio, close_request>;
  using items = boost::circular_buffer_space_optimized<item>;
  using capacity_type = items::capacity_type;
  // The ring grows with a burst and shrinks after it, never below a few slots; the budget bounds it in bytes.
  static constexpr std::size_t min_slots = 4;
  static constexpr std::size_t max_slots = static_cast<std::size_t>(-1) / 2;

  bool push(item next);
  static std::size_t size_of(const item& i);
  void dequeued(std::size_t size) { queued_bytes_ -= std::min(queued_bytes_, size); }
  caller_audio* queued_audio();  // the agent audio at the head of the queue, if that is what comes next
  std::string media_text(caller_audio& first, std::string_view stream_sid, std::size_t& merged);

  std::size_t max_bytes_;
  std::size_t queued_bytes_ = 0;
  items items_;
};

}  // namespace voicebridge::call
