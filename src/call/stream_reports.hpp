// What one call tells the other instances as it goes (call/stream_presence.hpp): that its stream is served
// here, each line said, how the gateway ends it; and, for a fresh stream after a crash, what its earlier
// streams stored. Does nothing on a single instance (no presence).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "call/stream_presence.hpp"

namespace voicebridge::twilio {
struct start_message;
}

namespace voicebridge::call {

class stream_reports {
 public:
  explicit stream_reports(stream_presence* presence) : presence_(presence) {}

  // True once the stream authenticated and was reported: the other reports go out from then on.
  bool on() const { return presence_ && !call_sid_.empty(); }
  void started(const twilio::start_message& start, const std::string& route);
  void said(std::string_view role, std::string_view text);
  boost::asio::awaitable<void> closing(std::string_view state);
  void ended_by_twilio();
  void over();
  // The lines the call's earlier streams stored, handed to `then` on `executor`.
  void earlier_transcript(boost::asio::any_io_executor executor,
                          std::function<void(std::vector<records::transcript_line>)> then);

 private:
  stream_presence* presence_;
  std::string call_sid_, stream_sid_;
  unsigned lines_said_ = 0;
};

}  // namespace voicebridge::call
