// Call audio on disk: mu-law WAV files (bit-exact call audio) written while the call runs. The call's
// thread only appends to a buffer; about once a second the buffer goes to the disk thread, which appends
// it and rewrites the header for the new size, so the file is a valid WAV after every flush and a crash
// loses at most the last second. At the end the disk thread fsyncs and closes it. A slow disk therefore
// delays the file, never a call. A write error (disk full) is logged and counted, the file keeps what was
// written, and the call goes on without it.
#pragma once
#include <boost/asio/thread_pool.hpp>
#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace voicebridge::call {

class wav_writer {
 public:
  // Creates `path` (never overwrites); nullptr after logging why when it cannot. `disk`: one thread, so
  // the writes of a file (and whatever is posted after them) happen in order.
  static std::unique_ptr<wav_writer> create(boost::asio::thread_pool& disk, const std::filesystem::path& path,
                                            unsigned channels, std::string call_sid);
  ~wav_writer();  // finishes, if finish() was not called
  wav_writer(const wav_writer&) = delete;
  wav_writer& operator=(const wav_writer&) = delete;

  void append(std::span<const std::uint8_t> interleaved);  // ignored once failed or finished
  // Flush, fsync and close on the disk thread. Idempotent.
  void finish();
  bool failed() const;
  std::uint64_t bytes() const { return appended_; }  // all appended audio (on disk once finished, unless failed)
  const std::filesystem::path& path() const;
  // Blocks until everything handed to the disk thread so far is written (for tests).
  void wait_written() const;

 private:
  struct disk_file;  // what only the disk thread touches (and the failure flag)
  wav_writer(boost::asio::thread_pool& disk, std::shared_ptr<disk_file> file);
  void hand_over(bool last);

  boost::asio::thread_pool& pool_;
  std::shared_ptr<disk_file> disk_;
  std::vector<std::uint8_t> pending_;
  std::uint64_t appended_ = 0;
  bool finished_ = false;
};

// The whole call as the caller lived it, two channels (left: the caller, right: what the caller heard).
// The caller's 20 ms frames arrive in real time and are the recording's clock; agent audio arrives faster
// than real time and is placed where Twilio plays it: after the audio queued before it, never before now.
// A `clear` (barge-in) drops what was queued and not yet heard, as Twilio does.
class call_recorder {
 public:
  explicit call_recorder(std::unique_ptr<wav_writer> file) : file_(std::move(file)) {}
  void caller_audio(std::span<const std::uint8_t> mulaw);
  void agent_audio(std::span<const std::uint8_t> mulaw);
  void agent_cleared() { agent_ahead_.clear(); }
  // The rest of the queued agent audio is written against silence (it plays after the caller's last frame).
  void finish();
  const wav_writer& file() const { return *file_; }
  wav_writer& file() { return *file_; }

  static constexpr std::size_t max_agent_ahead = 8000 * 120;  // 2 min of queued agent audio

 private:
  std::unique_ptr<wav_writer> file_;
  std::deque<std::uint8_t> agent_ahead_;  // agent audio not yet reached by the caller's clock
  std::vector<std::uint8_t> frame_;
};

// <directory>/<call sid>-<kind>.wav, with anything but letters, digits, '-' and '_' in the SID replaced.
std::filesystem::path recording_path(const std::filesystem::path& directory, std::string_view call_sid,
                                     std::string_view kind);

}  // namespace voicebridge::call
