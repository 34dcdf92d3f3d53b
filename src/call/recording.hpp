// Call audio on disk: mu-law WAV files (bit-exact call audio) written while the call runs. The data is
// flushed about once a second with a header that describes it, so a crash loses at most the last second;
// the file is fsync'd when finished. A write error (disk full) is logged and counted, the file is closed,
// and the call goes on without it.
#pragma once
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace voicebridge::call {

class wav_writer {
 public:
  // Creates `path` (never overwrites); nullptr after logging why when it cannot.
  static std::unique_ptr<wav_writer> create(const std::filesystem::path& path, unsigned channels, std::string call_sid);
  ~wav_writer();
  wav_writer(const wav_writer&) = delete;
  wav_writer& operator=(const wav_writer&) = delete;

  void append(std::span<const std::uint8_t> interleaved);  // ignored once failed or finished
  void finish();                                           // flush, fsync, close; idempotent
  bool failed() const { return failed_; }
  std::uint64_t data_bytes() const { return data_bytes_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  wav_writer(int fd, std::filesystem::path path, unsigned channels, std::string call_sid);
  bool flush();
  void fail(const char* what, int error);

  int fd_;
  std::filesystem::path path_;
  unsigned channels_;
  std::string call_sid_;
  std::vector<std::uint8_t> pending_;
  std::uint64_t data_bytes_ = 0;
  bool failed_ = false;
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
