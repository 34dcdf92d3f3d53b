#include "net/ws_inbox.hpp"

#include <algorithm>
#include <cstring>

namespace voicebridge::net {

std::span<char> ws_inbox::space() {
  if (bytes_.size() - filled_ < read_step) bytes_.resize(std::max(filled_ + read_step, bytes_.size() + bytes_.size() / 2));
  return {bytes_.data() + filled_, bytes_.size() - filled_};
}

void ws_inbox::start_with(std::string bytes) {
  bytes_ = std::move(bytes);
  filled_ = bytes_.size();
}

void ws_inbox::read(std::vector<ws_message>& out) {
  const std::size_t used = reader_.read({bytes_.data(), filled_}, out);
  filled_ -= used;
  if (filled_ > 0) std::memmove(bytes_.data(), bytes_.data() + used, filled_);  // a frame cut short: rarely
  if (bytes_.capacity() > kept_buffer_ && filled_ < read_step) bytes_ = bytes_.substr(0, read_step);  // after a big one
}

}  // namespace voicebridge::net
