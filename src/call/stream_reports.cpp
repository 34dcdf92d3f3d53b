#include "call/stream_reports.hpp"

#include <boost/asio/post.hpp>

#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"

namespace voicebridge::call {

void stream_reports::started(const twilio::start_message& start, const std::string& route) {
  if (!presence_) return;
  call_sid_ = start.call_sid;
  stream_sid_ = start.stream_sid;
  // What a fresh stream carries again: the call's parameters (its route's grant among them), without this
  // stream's token and count.
  std::vector<std::pair<std::string, std::string>> parameters;
  for (const auto& [name, value] : start.custom_parameters)
    if (name != twilio::stream_token_parameter && name != twilio::reconnects_parameter) parameters.emplace_back(name, value);
  presence_->started(call_sid_, route, std::move(parameters));
}

void stream_reports::said(std::string_view role, std::string_view text) {
  if (on()) presence_->said(call_sid_, stream_sid_, ++lines_said_, {std::string(role), std::string(text), 0});
}

boost::asio::awaitable<void> stream_reports::closing(std::string_view state) {
  if (on()) co_await presence_->closing(call_sid_, state);
}

void stream_reports::ended_by_twilio() {
  if (on()) presence_->ended_by_twilio(call_sid_);
}

void stream_reports::over() {
  if (on()) presence_->stream_over(call_sid_);
}

void stream_reports::earlier_transcript(boost::asio::any_io_executor executor,
                                        std::function<void(std::vector<records::transcript_line>)> then) {
  if (!on()) return;
  presence_->earlier_transcript(call_sid_, [executor = std::move(executor), then = std::move(then)](auto lines) {
    boost::asio::post(executor, [then, lines = std::move(lines)]() mutable { then(std::move(lines)); });
  });
}

}  // namespace voicebridge::call
