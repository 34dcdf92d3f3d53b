#include "call/recording.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/audio/wav.hpp"

namespace voicebridge::call {
using app::log;
using app::log_level;

namespace {
constexpr std::size_t flush_every_bytes = 8000;  // one second per channel

bool write_all(int fd, const std::uint8_t* data, std::size_t size, off_t offset, bool positioned) {
  while (size > 0) {
    const ssize_t n = positioned ? ::pwrite(fd, data, size, offset) : ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
  return true;
}
}  // namespace

std::filesystem::path recording_path(const std::filesystem::path& directory, std::string_view call_sid,
                                     std::string_view kind) {
  std::string name(call_sid.empty() ? "unknown" : call_sid.substr(0, 64));
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return directory / (name + "-" + std::string(kind) + ".wav");
}

std::unique_ptr<wav_writer> wav_writer::create(const std::filesystem::path& path, unsigned channels,
                                               std::string call_sid) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    const int error = errno;
    app::metrics().recording_failures.inc(error == ENOSPC ? "disk_full" : "open");
    log(log_level::error, "recording not started", {{"call_sid", call_sid}, {"path", path.string()},
                                                    {"error", std::strerror(error)}});
    return nullptr;
  }
  auto writer = std::unique_ptr<wav_writer>(new wav_writer(fd, path, channels, std::move(call_sid)));
  const auto header = audio::wav_header(audio::wav_encoding::mulaw, 8000, channels, 0);
  if (!write_all(fd, header.data(), header.size(), 0, false)) writer->fail("write", errno);
  return writer;
}

wav_writer::wav_writer(int fd, std::filesystem::path path, unsigned channels, std::string call_sid)
    : fd_(fd), path_(std::move(path)), channels_(channels), call_sid_(std::move(call_sid)) {
  pending_.reserve(flush_every_bytes * channels);
}

wav_writer::~wav_writer() { finish(); }

void wav_writer::append(std::span<const std::uint8_t> interleaved) {
  if (failed_ || fd_ < 0) return;
  pending_.insert(pending_.end(), interleaved.begin(), interleaved.end());
  if (pending_.size() >= flush_every_bytes * channels_) flush();
}

// Appends what is pending, then rewrites the header for the new size: the file is a valid WAV after
// every flush.
bool wav_writer::flush() {
  if (failed_ || fd_ < 0) return false;
  if (!pending_.empty()) {
    if (!write_all(fd_, pending_.data(), pending_.size(), 0, false)) {
      fail("write", errno);
      return false;
    }
    data_bytes_ += pending_.size();
    pending_.clear();
  }
  const auto size = static_cast<std::uint32_t>(std::min<std::uint64_t>(data_bytes_, 0xFFFF'FFF0u));
  const auto header = audio::wav_header(audio::wav_encoding::mulaw, 8000, channels_, size);
  if (!write_all(fd_, header.data(), header.size(), 0, true)) {
    fail("write", errno);
    return false;
  }
  return true;
}

void wav_writer::finish() {
  if (fd_ < 0) return;
  if (flush() && data_bytes_ % 2 == 1) {  // RIFF chunks are padded to an even size
    const std::uint8_t pad = 0;
    if (!write_all(fd_, &pad, 1, 0, false)) fail("write", errno);
  }
  if (!failed_ && ::fsync(fd_) != 0) fail("fsync", errno);
  ::close(fd_);
  fd_ = -1;
}

void wav_writer::fail(const char* what, int error) {
  failed_ = true;
  pending_.clear();
  app::metrics().recording_failures.inc(error == ENOSPC || error == EFBIG || error == EDQUOT ? "disk_full" : what);
  log(log_level::error, "recording stopped: the call goes on without it",
      {{"call_sid", call_sid_}, {"path", path_.string()}, {"step", what}, {"error", std::strerror(error)},
       {"bytes_kept", data_bytes_}});
}

void call_recorder::caller_audio(std::span<const std::uint8_t> mulaw) {
  frame_.resize(mulaw.size() * 2);
  for (std::size_t i = 0; i < mulaw.size(); ++i) {
    frame_[2 * i] = mulaw[i];
    if (agent_ahead_.empty()) {
      frame_[2 * i + 1] = audio::mulaw_silence;
    } else {
      frame_[2 * i + 1] = agent_ahead_.front();
      agent_ahead_.pop_front();
    }
  }
  file_->append(frame_);
}

void call_recorder::agent_audio(std::span<const std::uint8_t> mulaw) {
  const std::size_t room = max_agent_ahead - std::min(max_agent_ahead, agent_ahead_.size());
  agent_ahead_.insert(agent_ahead_.end(), mulaw.begin(), mulaw.begin() + static_cast<std::ptrdiff_t>(std::min(room, mulaw.size())));
}

void call_recorder::finish() {
  if (!agent_ahead_.empty()) {
    std::vector<std::uint8_t> silence(agent_ahead_.size(), audio::mulaw_silence);
    caller_audio(silence);
  }
  file_->finish();
}

}  // namespace voicebridge::call
