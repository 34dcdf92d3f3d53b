#include "net/tls_engine.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/system_error.hpp>
#include <climits>
#include <cstring>

namespace voicebridge::net {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr std::size_t kept_bytes = 2048;  // each queue's block between records: a record of audio fits
constexpr std::size_t record_bytes = 16384;  // TLS's largest plaintext record (RFC 8446, section 5.1)
constexpr std::size_t max_input_read = record_bytes + 512;  // a whole record and its header, in one read
// The output a peer's messages can make us queue (alerts, key update answers) before a write must wait for
// the socket: a bound, not a size we expect.
constexpr std::size_t max_output = 4 * record_bytes;
}  // namespace

unsigned char* byte_queue::prepare(std::size_t bytes) {
  if (room() >= bytes) return data_.get() + end_;
  const std::size_t held = size();
  if (capacity_ - held >= bytes) {
    std::memmove(data_.get(), data_.get() + begin_, held);
  } else {
    const std::size_t capacity = std::max({held + bytes, capacity_ * 2, kept_bytes});
    auto grown = std::make_unique_for_overwrite<unsigned char[]>(capacity);
    if (held) std::memcpy(grown.get(), data_.get() + begin_, held);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  begin_ = 0;
  end_ = held;
  return data_.get() + end_;
}

void byte_queue::consume(std::size_t bytes) {
  begin_ += bytes;
  if (begin_ == end_) begin_ = end_ = 0;
}

void byte_queue::reallocate(std::size_t capacity) {
  data_ = capacity ? std::make_unique_for_overwrite<unsigned char[]>(capacity) : nullptr;
  capacity_ = capacity;
  begin_ = end_ = 0;
}

// OpenSSL reads records from the input queue and writes them to the output queue through a BIO of our own
// (OpenSSL's BIO_meth_new(3)): an empty input asks the caller for more (a retryable read), a full output
// for the socket to take some (a retryable write).
struct tls_engine_bio {
  static tls_engine& engine(BIO* bio) { return *static_cast<tls_engine*>(BIO_get_data(bio)); }

  static int write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
    BIO_clear_retry_flags(bio);
    auto& output = engine(bio).output_;
    if (!output.empty() && output.size() + size > max_output) {
      BIO_set_retry_write(bio);
      return 0;
    }
    std::memcpy(output.prepare(size), data, size);
    output.commit(size);
    *written = size;
    return 1;
  }

  static int read(BIO* bio, char* data, std::size_t size, std::size_t* read) {
    BIO_clear_retry_flags(bio);
    auto& input = engine(bio).input_;
    if (input.empty()) {
      BIO_set_retry_read(bio);
      return 0;
    }
    const std::size_t n = std::min(size, input.size());
    std::memcpy(data, input.data(), n);
    input.consume(n);
    *read = n;
    return 1;
  }

  static long control(BIO* bio, int command, long, void*) {
    switch (command) {
      case BIO_CTRL_FLUSH: return 1;  // written is queued: the caller sends it
      case BIO_CTRL_PENDING: return static_cast<long>(engine(bio).input_.size());
      case BIO_CTRL_WPENDING: return static_cast<long>(engine(bio).output_.size());
      default: return 0;
    }
  }

  static BIO_METHOD* method() {
    static BIO_METHOD* const queues = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "voicebridge TLS queues");
      if (!m || !BIO_meth_set_write_ex(m, write) || !BIO_meth_set_read_ex(m, read) || !BIO_meth_set_ctrl(m, control))
        throw boost::system::system_error(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category(),
                                          "BIO_meth_new");
      return m;
    }();
    return queues;
  }
};

tls_engine::tls_engine(SSL_CTX* context, role r) : ssl_(SSL_new(context)) {
  if (!ssl_)
    throw boost::system::system_error(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category(), "SSL_new");
  // As Asio's engine: a write may take part of what it is given, and a retry may pass it from elsewhere.
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  // A renegotiation would make a write wait for a read (TLS 1.2): refused, so writing never needs the socket's
  // reading side, which the stream leaves to its reader.
  SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
  BIO* bio = BIO_new(tls_engine_bio::method());
  if (!bio) {
    SSL_free(ssl_);
    throw boost::system::system_error(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category(), "BIO_new");
  }
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways: SSL_set_bio(3) takes the one reference
  if (r == role::client) SSL_set_connect_state(ssl_);
  else SSL_set_accept_state(ssl_);
}

tls_engine::~tls_engine() { SSL_free(ssl_); }

// One call into OpenSSL, and what it needs next (the decisions of Asio's ssl::detail::engine::perform).
template <class Operation>
tls_engine::step tls_engine::perform(Operation&& operation) {
  const std::size_t output_before = output_.size();
  ERR_clear_error();
  const int result = operation();
  const int ssl_error = SSL_get_error(ssl_, result);
  const unsigned long library_error = ERR_get_error();
  const bool wrote = output_.size() > output_before;
  step s;
  if (ssl_error == SSL_ERROR_SSL || ssl_error == SSL_ERROR_SYSCALL) {
    s.ec = library_error ? error_code(static_cast<int>(library_error), asio::error::get_ssl_category())
                         : error_code(asio::ssl::error::unspecified_system_error);
    s.next = wrote ? want::output : want::nothing;  // an alert for the peer goes out first
    return s;
  }
  if (result > 0) s.bytes = static_cast<std::size_t>(result);
  if (ssl_error == SSL_ERROR_WANT_WRITE) s.next = want::output_and_retry;
  else if (wrote) s.next = result > 0 ? want::output : want::output_and_retry;
  else if (ssl_error == SSL_ERROR_WANT_READ) s.next = want::input_and_retry;
  else if (ssl_error == SSL_ERROR_ZERO_RETURN) s.ec = asio::error::eof;
  else if (ssl_error != SSL_ERROR_NONE) s.ec = asio::ssl::error::unexpected_result;
  return s;
}

tls_engine::step tls_engine::handshake() {
  return perform([this] { return SSL_do_handshake(ssl_); });
}

tls_engine::step tls_engine::read(asio::mutable_buffer into) {
  const int size = static_cast<int>(std::min<std::size_t>(into.size(), INT_MAX));
  return perform([&] { return SSL_read(ssl_, into.data(), size); });
}

tls_engine::step tls_engine::write(asio::const_buffer from) {
  const int size = static_cast<int>(std::min(from.size(), record_bytes));
  return perform([&] { return SSL_write(ssl_, from.data(), size); });
}

tls_engine::step tls_engine::write(std::span<const asio::const_buffer> pieces) {
  if (pieces.size() == 1) return write(pieces.front());
  std::array<unsigned char, record_bytes> record;  // on the stack: nothing per connection
  std::size_t size = 0;
  for (const auto& piece : pieces) {
    const std::size_t n = std::min(piece.size(), record.size() - size);
    std::memcpy(record.data() + size, piece.data(), n);
    size += n;
  }
  return write(asio::const_buffer(record.data(), size));
}

tls_engine::step tls_engine::shutdown() {
  // 0 says our close_notify is queued and the peer's not yet read: done, as far as this side goes.
  return perform([this] { return SSL_shutdown(ssl_) >= 0 ? 1 : -1; });
}

asio::mutable_buffer tls_engine::input_space() {
  if (input_.empty()) {
    // A read that filled the block: the peer sends large records, so the next read may take a whole one.
    // Otherwise back to the small block.
    const std::size_t wanted = input_filled_ ? std::min(std::max(input_.capacity() * 2, kept_bytes), max_input_read)
                                             : kept_bytes;
    if (input_.capacity() != wanted) input_.reallocate(wanted);
  }
  unsigned char* space = input_.prepare(input_.room() ? input_.room() : kept_bytes);
  input_offered_ = input_.room();
  return {space, input_offered_};
}

void tls_engine::received(std::size_t bytes) {
  input_filled_ = bytes == input_offered_;
  input_.commit(bytes);
}

void tls_engine::sent(std::size_t bytes) {
  output_.consume(bytes);
  if (output_.empty() && output_.capacity() > kept_bytes) output_.reallocate(0);  // a large record's block
}

error_code tls_engine::end_of_stream() const {
  // Bytes the peer sent that OpenSSL has not read, or no close_notify: the stream was cut (RFC 8446, 6.1).
  if (!input_.empty() || !(SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN)) return asio::ssl::error::stream_truncated;
  return asio::error::eof;
}

}  // namespace voicebridge::net
