#include "call/machine_message.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <span>

#include "call/answering_machine.hpp"
#include "call/playback.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;

namespace {
constexpr std::string_view message_end_mark = "voicemail-message-end";
}

machine_message_agent::machine_message_agent(const asio::any_io_executor& executor, caller_link& caller,
                                             std::shared_ptr<const std::vector<std::uint8_t>> message)
    : executor_(executor), caller_(caller), message_(std::move(message)), played_(executor) {}

void machine_message_agent::on_mark(std::string_view name) {
  if (name != message_end_mark) return;
  heard_to_the_end_ = true;
  played_.cancel();
}

void machine_message_agent::on_caller_hangup() {
  hung_up_ = true;
  played_.cancel();
}

asio::awaitable<agent_end> machine_message_agent::run() {
  if (message_ && !message_->empty()) {
    const std::span<const std::uint8_t> message(*message_);  // named (GCC 12: docs/gcc12-coroutines.md)
    co_await play_paced(executor_, caller_, message, hung_up_);
    if (!hung_up_) {
      // Twilio echoes the mark once the audio before it has played (Twilio Docs, "Media Streams - WebSocket
      // Messages", mark): the hang-up waits for it, so that the machine records the message to its end.
      caller_.send_mark(std::string(message_end_mark));
      played_.expires_after(played_cap);
      co_await played_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  if (!hung_up_) caller_.hang_up();
  co_return agent_end::served;
}

void machine_message_agent::describe(records::call_record& record) const {
  record.outcome = answering_machine::machine_outcome(message_ && !message_->empty() && heard_to_the_end_);
}

}  // namespace voicebridge::call
