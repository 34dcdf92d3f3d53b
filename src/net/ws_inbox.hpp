// The reading side of a WebSocket once its handshake is done, without I/O: the bytes a socket brought and not yet
// parsed, and the frame reader (net/ws_frames.hpp) over them. The Twilio side (call/twilio_socket.hpp) and the
// agents' side (net/ws_client.hpp) read through one each: the socket reads into space(), received() counts what
// came, and read() hands out every complete frame, so that one read of the socket delivers every frame it brought.
//
// Memory: reads are made room for in steps of read_step (a 20 ms media message is about 300-400 bytes), the
// buffer grows by half when a frame is larger, and one grown past `kept_buffer` (a big message, a backlog) is
// given back after it: what a call keeps between frames is what a frame needs.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "net/ws_frames.hpp"

namespace voicebridge::net {

class ws_inbox {
 public:
  static constexpr std::size_t read_step = 512;

  ws_inbox(ws_role role, std::size_t max_message, ws_oversized oversized, std::size_t kept_buffer)
      : reader_(role, max_message, oversized), kept_buffer_(kept_buffer) {}

  // Where the socket's next read goes: at least read_step bytes.
  std::span<char> space();
  void received(std::size_t n) { filled_ += n; }
  // Bytes that came before the frames were ours (what followed an upgrade's answer in its segment).
  void start_with(std::string bytes);

  // Appends every complete message and control frame read so far to `out`, in order (ws_frame_reader::read);
  // a frame cut short waits for more bytes. After a failure nothing more is read (failure() says why).
  void read(std::vector<ws_message>& out);
  const std::optional<ws_failure>& failure() const { return reader_.failure(); }
  // A message's payload string, given back for the next message's bytes (no allocation per message); one grown
  // past kept_buffer is let go.
  void reuse(std::string payload) {
    if (payload.capacity() <= kept_buffer_) reader_.reuse(std::move(payload));
  }

 private:
  ws_frame_reader reader_;
  std::size_t kept_buffer_;
  std::string bytes_;  // read, not yet parsed: bytes_[0, filled_)
  std::size_t filled_ = 0;
};

}  // namespace voicebridge::net
