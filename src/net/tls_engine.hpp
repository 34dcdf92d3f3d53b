// TLS without I/O: an OpenSSL connection whose records go to and come from two byte queues this object owns.
// The caller moves bytes between those queues and a socket (net::tls_stream does, over Asio); tests connect
// two engines in memory.
//
// Why not Asio's ssl::stream: its engine keeps four buffers of 17 KiB per connection (a BIO pair, and one
// buffer each way between the pair and the socket), about 70 KiB per call that sit mostly unused, and copies
// every byte twice on its way in. Here the socket reads into the input queue and writes from the output
// queue directly; each holds what is in flight, kept at 2 KiB between records (a record of audio is ~1 KiB)
// and grown only for a larger one. OpenSSL's own record buffers are released between records
// (SSL_MODE_RELEASE_BUFFERS).
#pragma once
#include <openssl/types.h>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <span>

namespace voicebridge::net {

// A FIFO of bytes in one heap block: appended at the back, consumed from the front.
class byte_queue {
 public:
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  const unsigned char* data() const { return data_.get() + begin_; }
  std::size_t capacity() const { return capacity_; }
  // Room for at least `bytes` at the back (moves the bytes to the front, or grows the block).
  unsigned char* prepare(std::size_t bytes);
  std::size_t room() const { return capacity_ - end_; }
  void commit(std::size_t bytes) { end_ += bytes; }
  // Drops `bytes` from the front; emptied, the queue starts over at the block's start.
  void consume(std::size_t bytes);
  // Empty only: a block of exactly `capacity` bytes (0: none).
  void reallocate(std::size_t capacity);

 private:
  std::unique_ptr<unsigned char[]> data_;
  std::size_t capacity_ = 0, begin_ = 0, end_ = 0;
};

class tls_engine {
 public:
  enum class role { client, server };
  // `context` must outlive the engine.
  tls_engine(SSL_CTX* context, role r);
  ~tls_engine();
  tls_engine(const tls_engine&) = delete;
  tls_engine& operator=(const tls_engine&) = delete;

  SSL* native_handle() const { return ssl_; }

  // What an operation needs before it can go on (the caller's loop, as Asio's ssl::detail::io_op).
  enum class want {
    nothing,           // finished: `ec` and `bytes` are its result
    output,            // finished once output() is on the wire
    output_and_retry,  // put output() on the wire, then call the operation again
    input_and_retry,   // read from the socket into input_space(), then call the operation again
  };
  struct step {
    want next = want::nothing;
    boost::system::error_code ec;
    std::size_t bytes = 0;
  };

  step handshake();
  // Up to `into.size()` bytes of application data.
  step read(boost::asio::mutable_buffer into);
  // Some of `from` (a record's worth at most); a retry must pass the same bytes (they may move). Pieces are
  // gathered into one record (Beast writes a frame's header and its payload as two).
  step write(boost::asio::const_buffer from);
  step write(std::span<const boost::asio::const_buffer> pieces);
  // Sends our close_notify. Waiting for the peer's is left to the transport (reading until its end).
  step shutdown();

  // The transport's side: where the socket's next read goes and how much it brought; what to send, and how
  // much of it went.
  boost::asio::mutable_buffer input_space();
  void received(std::size_t bytes);
  boost::asio::const_buffer output() const { return {output_.data(), output_.size()}; }
  bool has_output() const { return !output_.empty(); }
  void sent(std::size_t bytes);

  // The socket's end of stream, as Asio's ssl::stream reports it: eof after the peer's close_notify,
  // stream_truncated before it (someone cut the connection, or bytes of a record were still to come).
  boost::system::error_code end_of_stream() const;

  // Bytes held for this connection by the queues (not OpenSSL's own), for tests and benchmarks.
  std::size_t buffered_capacity() const { return input_.capacity() + output_.capacity(); }

 private:
  friend struct tls_engine_bio;
  template <class Operation>
  step perform(Operation&& operation);

  SSL* ssl_ = nullptr;
  byte_queue input_;
  byte_queue output_;
  std::size_t input_offered_ = 0;  // the room input_space() gave the last socket read
  bool input_filled_ = false;      // and that read filled it: the peer is sending large records
};

}  // namespace voicebridge::net
