#include "call/call_transfer.hpp"

#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/twiml.hpp"

namespace voicebridge::call {
using app::log;
using app::log_level;

boost::asio::awaitable<bool> transfer_call(const twilio::rest_settings& rest, std::string call_sid, std::string number,
                                           records::call_record& record) {
  log(log_level::info, "transferring the call", {{"call_sid", call_sid}, {"number", number}});
  const std::string previous = record.transferred_to;
  record.transferred_to = number;
  const std::string dial = twilio::render_dial(number);  // a named local (GCC 12: docs/gcc12-coroutines.md)
  const auto result = co_await twilio::update_call_twiml(rest, call_sid, dial);
  if (result.ok()) {
    app::metrics().transfers.inc("ok");
    log(log_level::info, "call transferred", {{"call_sid", call_sid}, {"number", number}});
    co_return true;
  }
  record.transferred_to = previous;
  app::metrics().transfers.inc("failed");
  log(log_level::error, "transfer failed: the call goes on", {{"call_sid", call_sid}, {"error", result.error}});
  co_return false;
}

}  // namespace voicebridge::call
