// Which bytes of a file a GET asks for (RFC 9110, "HTTP Semantics", section 14 "Range Requests"), without I/O:
// one range of bytes, or the whole file. Browsers' <audio> players seek with it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace voicebridge::server {

struct byte_range {
  std::uint64_t first = 0, last = 0;  // inclusive
  std::uint64_t length() const { return last - first + 1; }
};

struct range_choice {
  enum class kind { whole, part, unsatisfiable } what = kind::whole;
  byte_range range;  // for `part`
};

// The answer to a Range header for a file of `size` bytes: no header, another unit, several ranges or a
// header that does not parse are the whole file (section 14.2: a server may ignore it); one range within
// the file is that part (its end clipped to the file's); a range that starts past the end is unsatisfiable.
range_choice choose_range(std::string_view header, std::uint64_t size);

// "bytes 0-99/1234" for a part, "bytes */1234" for an unsatisfiable range (section 14.4, Content-Range).
std::string content_range(const range_choice& choice, std::uint64_t size);

}  // namespace voicebridge::server
