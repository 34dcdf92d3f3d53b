#include "call/recording.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <boost/asio/post.hpp>
#include <future>

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

bool write_all(int fd, const std::uint8_t* data, std::size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, offset);
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

struct wav_writer::disk_file {
  int fd = -1;
  std::filesystem::path path;
  unsigned channels = 1;
  std::string call_sid;
  std::uint64_t data_bytes = 0;  // written, as the header says
  std::atomic<bool> failed{false};

  // Appends `data`, then rewrites the header for the new size.
  void write(const std::vector<std::uint8_t>& data) {
    if (failed || fd < 0) return;
    const auto size = static_cast<std::uint32_t>(std::min<std::uint64_t>(data_bytes + data.size(), 0xFFFF'FFF0u));
    const auto header = audio::wav_header(audio::wav_encoding::mulaw, 8000, channels, size);
    const auto at = static_cast<off_t>(header.size() + data_bytes);  // the data chunk follows the header
    if (!data.empty() && !write_all(fd, data.data(), data.size(), at)) return fail("write", errno);
    data_bytes += data.size();
    if (!write_all(fd, header.data(), header.size(), 0)) fail("write", errno);
  }
  void close() {
    if (fd < 0) return;
    if (!failed && data_bytes % 2 == 1) {  // RIFF chunks are padded to an even size
      const std::uint8_t pad = 0;
      const auto at = static_cast<off_t>(audio::wav_header(audio::wav_encoding::mulaw, 8000, channels, 0).size() + data_bytes);
      if (!write_all(fd, &pad, 1, at)) fail("write", errno);
    }
    if (!failed && ::fsync(fd) != 0) fail("fsync", errno);
    ::close(fd);
    fd = -1;
  }
  void fail(const char* what, int error) {
    failed = true;
    app::metrics().recording_failures.inc(error == ENOSPC || error == EFBIG || error == EDQUOT ? "disk_full" : what);
    log(log_level::error, "recording stopped: the call goes on without it",
        {{"call_sid", call_sid}, {"path", path.string()}, {"step", what}, {"error", std::strerror(error)},
         {"bytes_kept", data_bytes}});
  }
};

std::unique_ptr<wav_writer> wav_writer::create(boost::asio::thread_pool& disk, const std::filesystem::path& path,
                                               unsigned channels, std::string call_sid) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    const int error = errno;
    app::metrics().recording_failures.inc(error == ENOSPC ? "disk_full" : "open");
    log(log_level::error, "recording not started", {{"call_sid", call_sid}, {"path", path.string()},
                                                    {"error", std::strerror(error)}});
    return nullptr;
  }
  auto file = std::make_shared<disk_file>();
  file->fd = fd;
  file->path = path;
  file->channels = channels;
  file->call_sid = std::move(call_sid);
  auto writer = std::unique_ptr<wav_writer>(new wav_writer(disk, std::move(file)));
  writer->hand_over(false);  // the header, for a file with no audio yet
  return writer;
}

wav_writer::wav_writer(boost::asio::thread_pool& disk, std::shared_ptr<disk_file> file)
    : pool_(disk), disk_(std::move(file)) {
  pending_.reserve(flush_every_bytes * disk_->channels);
}

wav_writer::~wav_writer() { finish(); }
bool wav_writer::failed() const { return disk_->failed; }
const std::filesystem::path& wav_writer::path() const { return disk_->path; }

void wav_writer::append(std::span<const std::uint8_t> interleaved) {
  if (finished_ || disk_->failed) return;
  pending_.insert(pending_.end(), interleaved.begin(), interleaved.end());
  appended_ += interleaved.size();
  if (pending_.size() >= flush_every_bytes * disk_->channels) hand_over(false);
}

void wav_writer::hand_over(bool last) {
  std::vector<std::uint8_t> data;
  data.swap(pending_);
  if (!last) pending_.reserve(flush_every_bytes * disk_->channels);
  boost::asio::post(pool_, [file = disk_, data = std::move(data), last] {
    file->write(data);
    if (last) file->close();
  });
}

void wav_writer::finish() {
  if (finished_) return;
  finished_ = true;
  hand_over(true);
}

void wav_writer::wait_written() const {
  std::promise<void> done;
  auto written = done.get_future();
  boost::asio::post(pool_, [&done] { done.set_value(); });
  written.wait();
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
