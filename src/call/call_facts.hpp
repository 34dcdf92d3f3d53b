// What a call leaves behind, gathered as it runs: its record (parties, keys, transfer, outcome, transcript),
// its recording (RECORD_CALLS) and its counters (frames and bytes both ways, in metrics and the end's log
// line). The record is stored once, at the end, behind the recording's last write.
#pragma once
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "call/live_call.hpp"
#include "call/recording.hpp"
#include "records/call_record.hpp"
#include "voicebridge/app/config.hpp"

namespace voicebridge::twilio {
struct start_message;
}
namespace voicebridge::records {
class record_writer;
}

namespace voicebridge::call {

class call_facts {
 public:
  // The authenticated `start`: whoever called whom, and when.
  void started(const twilio::start_message& start);
  // RECORD_CALLS: both sides into one stereo file, written on the disk thread.
  void record_audio(const app::config& config, boost::asio::thread_pool& disk, const std::string& call_sid);

  // The console's view of the call, kept up to date from here on: who is speaking.
  std::shared_ptr<live_call> go_live(std::string route, std::function<void()> end,
                                     std::function<void(std::string)> transfer);

  void caller_audio(std::string_view payload_base64, const std::string& call_sid);  // validated
  void agent_audio(std::string_view payload_base64, bool recorded);
  void agent_cleared();
  // A key the caller pressed; `opt_out_key` (the route's OPT_OUT_KEY) marks the record opted out.
  void dtmf(char digit, std::optional<char> opt_out_key = std::nullopt);

  records::call_record& record() { return record_; }
  std::uint64_t frames_in() const { return frames_in_; }
  std::uint64_t bytes_in() const { return bytes_in_; }
  std::uint64_t frames_out() const { return frames_out_; }

  // The record, with its outcome, through the disk thread: stored once the call's audio is durable.
  void save(const std::string& outcome, const std::string& end_reason, boost::asio::thread_pool& disk,
            records::record_writer& records);

 private:
  records::call_record record_;
  std::optional<call_recorder> recorder_;
  std::shared_ptr<live_call> live_;
  std::uint64_t frames_in_ = 0, bytes_in_ = 0, frames_out_ = 0;
};

}  // namespace voicebridge::call
