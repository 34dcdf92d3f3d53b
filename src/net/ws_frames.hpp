// WebSocket frames without I/O (The WebSocket Protocol, RFC 6455, section 5). Reading: bytes in, whole
// messages and control frames out, so that one read from a socket can deliver every frame it brought.
//
// It enforces what the RFC requires of the reading side, as Beast's websocket::stream does (a differential
// test runs both over loopback, tests/integration/ws_frames_beast_test.cpp): masked frames from a client and
// unmasked ones from a server (section 5.1), no reserved bits or opcodes without an extension (5.2), the
// minimal length encoding (5.2), control frames unfragmented and at most 125 bytes (5.5), continuation frames
// only inside a fragmented message and data frames never inside one (5.4), text that is UTF-8 (8.1, checked as
// the fragments arrive), a close frame's code and reason (7.4), and a bound on a message's size. A failure
// names the close code to answer with (1002, 1007 for text that is not UTF-8, 1009); nothing is read after it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace voicebridge::net {

enum class ws_role { server, client };  // who reads: a server reads a client's (masked) frames

struct ws_message {
  enum class kind { text, binary, ping, pong, close } what = kind::text;
  std::string payload;          // a close frame's reason, without its code
  std::uint16_t close_code = 0;  // a close frame's code; 0 when it carried none
  bool oversized = false;        // a data message over the limit, skipped (ws_oversized::skip): no payload
};

// What a message over the size limit does: fail the connection (1009, as Beast does), or be skipped, reported
// once as an `oversized` message, while the frames after it are read as usual. A server that answers 1009
// with its own close handshake must go on reading until the peer's close frame: a peer still sending the big
// message would otherwise be reset and see 1006, not 1009.
enum class ws_oversized { fail, skip };

struct ws_failure {
  std::uint16_t close_code = 1002;  // 1002 protocol error, 1007 not UTF-8, 1009 too big
  std::string reason;               // what was wrong, for the log
};

class ws_frame_reader {
 public:
  ws_frame_reader(ws_role role, std::size_t max_message, ws_oversized oversized = ws_oversized::fail)
      : role_(role), max_message_(max_message), oversized_(oversized) {}

  // Reads the frames at the start of `bytes`, appending each complete message and control frame to `out`;
  // returns how many bytes it used. A frame cut short at the end is left unread: call again with those
  // bytes and more. After a failure it reads nothing (failure() says why).
  std::size_t read(std::string_view bytes, std::vector<ws_message>& out);
  const std::optional<ws_failure>& failure() const { return failure_; }
  bool in_message() const { return in_message_; }  // between the first and the last frame of a message
  // A message's payload string, handed back once used: the next message is read into its memory, so that a
  // stream of messages costs no allocation each.
  void reuse(std::string payload) {
    if (!in_message_ && payload.capacity() > message_.capacity()) {
      message_ = std::move(payload);
      message_.clear();
    }
  }

 private:
  std::size_t fail(std::uint16_t code, std::string reason);
  bool text_so_far_ok(bool final_fragment);
  std::size_t skip(std::string_view bytes);

  ws_role role_;
  std::size_t max_message_;
  ws_oversized oversized_;
  bool skipping_message_ = false;  // the current message is over the limit: its frames are skipped
  std::uint64_t skip_left_ = 0;    // payload bytes of the frame being skipped not yet read
  bool skip_fin_ = false;          // the frame being skipped is its message's last
  std::optional<ws_failure> failure_;
  bool in_message_ = false;  // a data frame without FIN was read: continuations follow
  ws_message::kind message_kind_ = ws_message::kind::text;
  std::string message_;            // the fragments so far
  std::size_t utf8_checked_ = 0;   // how much of message_ is known to be well-formed UTF-8
};

// Appends one frame (RFC 6455, section 5.2) to `out`, in the shortest length form: so that several messages
// queued for a socket go out in one write. A client masks with `mask_key` (section 5.3: fresh and
// unpredictable for each frame, the caller's CSPRNG); a server does not mask (nullopt). `what` close takes
// the code in `close_code` (0: none) and the reason in `payload`.
// A data message may go out in fragments (section 5.4): its first frame carries its kind, the others are
// continuations, and the last has FIN.
enum class ws_fragment { whole, first, middle, last };
void append_frame(std::string& out, ws_message::kind what, std::string_view payload, ws_fragment part = ws_fragment::whole,
                  std::optional<std::uint32_t> mask_key = std::nullopt, std::uint16_t close_code = 0);

// Whether `text` is well-formed UTF-8, except for a sequence cut short at its end when `more_follows`
// (a fragment of a text message may end inside a character): -1 when it is not, else how many leading bytes
// are complete characters.
std::ptrdiff_t utf8_valid_prefix(std::string_view text, bool more_follows);

}  // namespace voicebridge::net
