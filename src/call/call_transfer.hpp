// A transfer to a human: the call's TwiML replaced with <Dial> over Twilio's REST API.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>

#include "records/call_record.hpp"
#include "twilio/rest_client.hpp"

namespace voicebridge::call {

// Twilio runs the new TwiML and ends the stream with `stop`, possibly before its answer arrives: `record`
// says where the call went from the start, and is put back if Twilio refuses. Logged and counted; true
// when Twilio took it.
boost::asio::awaitable<bool> transfer_call(const twilio::rest_settings& rest, std::string call_sid, std::string number,
                                           records::call_record& record);

}  // namespace voicebridge::call
