// The close handshake of one WebSocket connection, without I/O (The WebSocket Protocol, RFC 6455, sections
// 5.5.1 and 7.1): who closed first, whether the peer's close frame is to be answered, and what the writer does
// once its own close frame is out. The socket that carries it out reports what happened and asks what next;
// unit-tested without a socket (tests/net/ws_close_test.cpp).
#pragma once

namespace voicebridge::net {

class ws_close_handshake {
 public:
  // The peer's close frame was read. True when it is to be answered with ours, echoing its code (section
  // 5.5.1): we had not begun to close, and nothing else may be sent after the answer. False when it answers
  // ours (`ours_queued`: our close frame is queued or out).
  bool on_peer_close(bool ours_queued) {
    peer_closed_ = true;
    answering_ = !ours_queued && !failed_;
    return answering_;
  }
  // A frame broke the protocol (section 7.1.7, "Fail the WebSocket Connection"): nothing after it can be read,
  // the peer's close frame included.
  void on_read_failed() { failed_ = true; }

  bool peer_closed() const { return peer_closed_; }
  bool failed() const { return failed_; }
  // Our close frame is the answer to the peer's: whatever the user wanted to do before closing is moot.
  bool answering() const { return answering_; }

  // Once our close frame is out:
  enum class then {
    drop,              // the peer's came first: close the TCP connection now (section 7.1.1: the server first)
    await_peer_close,  // read on until the peer's close frame (bounded by the caller), then drop
    drain_then_drop,   // after a failure: stop sending, read and discard until the peer closes TCP (bounded)
  };
  then after_our_close() const {
    if (failed_) return then::drain_then_drop;
    return peer_closed_ ? then::drop : then::await_peer_close;
  }

 private:
  bool peer_closed_ = false;
  bool answering_ = false;
  bool failed_ = false;
};

}  // namespace voicebridge::net
