#include "call/voicemail_agent.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>

#include "call/playback.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;
using app::log;
using app::log_level;

voicemail_agent::voicemail_agent(const asio::any_io_executor& executor, caller_link& caller,
                                 const voicemail_settings& settings, std::string call_sid)
    : executor_(executor),
      caller_(caller),
      settings_(settings),
      call_sid_(std::move(call_sid)),
      done_(executor, asio::steady_timer::time_point::max()) {}

void voicemail_agent::on_caller_audio(std::string_view payload_base64) {
  if (!message_ || ended_) return;
  auto decoded = util::base64_decode(payload_base64);
  if (!decoded) return;  // the stream's parser has checked it already
  const auto& frame = *decoded;
  message_->append(frame);
  if (settings_.silence_timeout.count() == 0 || frame.empty()) return;
  long level = 0;
  for (std::uint8_t code : frame) level += std::abs(audio::mulaw_decode(code));
  const bool silent = level / static_cast<long>(frame.size()) < silence_level;
  silent_for_ = silent ? silent_for_ + std::chrono::milliseconds(frame.size() / 8) : std::chrono::milliseconds(0);
  if (silent_for_ >= settings_.silence_timeout) {
    log(log_level::info, "voicemail ended by silence", {{"call_sid", call_sid_}});
    end_message();
  }
}

void voicemail_agent::on_caller_hangup() {
  hung_up_ = true;
  end_message();
}

void voicemail_agent::end_message() {
  ended_ = true;
  done_.cancel();
}

asio::awaitable<agent_end> voicemail_agent::run() {
  const std::span<const std::uint8_t> prompt(*settings_.prompt), tone(*settings_.tone);  // named (GCC 12: docs/gcc12-coroutines.md)
  co_await play_paced(executor_, caller_, prompt, hung_up_);
  co_await play_paced(executor_, caller_, tone, hung_up_);
  if (!hung_up_) {
    // The tone's last frame has just been sent: what the caller says from now on is the message.
    const auto path = recording_path(settings_.directory, call_sid_, "voicemail");
    message_ = wav_writer::create(*settings_.disk, path, 1, call_sid_);
    log(log_level::info, "voicemail recording", {{"call_sid", call_sid_}, {"path", path.string()}});
    done_.expires_after(settings_.max_length);
    while (!ended_) {
      auto [ec] = co_await done_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!ec) break;  // the maximum length
    }
    ended_ = true;
  }
  if (message_) {
    message_->finish();
    log(log_level::info, "voicemail saved",
        {{"call_sid", call_sid_}, {"path", message_->path().string()}, {"bytes", message_->bytes()}});
  }
  if (!hung_up_) caller_.hang_up();
  co_return agent_end::served;
}

void voicemail_agent::describe(records::call_record& record) const {
  const bool message = message_ && message_->bytes() > 0;
  record.outcome = message ? records::outcome::voicemail : records::outcome::fallback;
  if (message) record.voicemail_path = message_->path().string();
}

}  // namespace voicebridge::call
