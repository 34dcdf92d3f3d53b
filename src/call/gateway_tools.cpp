#include "call/gateway_tools.hpp"

#include <boost/json/parse.hpp>

#include "voicebridge/llm/chat_messages.hpp"
#include "voicebridge/twilio/twiml.hpp"

namespace voicebridge::call {

std::string dtmf_sentence(char digit) {
  return std::string("The caller pressed the key ") + digit + " on the phone keypad.";
}

tool_request read_tool_call(std::string_view name, std::string_view arguments_json) {
  tool_request r;
  if (name == llm::end_call_tool || name == "hang_up") {
    r.what = tool_request::kind::end_call;
    r.result = "ok";
    return r;
  }
  if (name != llm::transfer_tool) {
    r.what = tool_request::kind::unknown;
    r.result = "unknown tool " + std::string(name);
    r.is_error = true;
    return r;
  }
  boost::system::error_code ec;
  const auto arguments = boost::json::parse(arguments_json, ec);
  for (const char* key : {"phone_number", "transfer_number", "number"}) {
    const auto* v = !ec && arguments.is_object() ? arguments.get_object().if_contains(key) : nullptr;
    if (v && v->is_string()) r.number = std::string(v->get_string());
  }
  if (!twilio::is_e164(r.number)) {
    r.what = tool_request::kind::invalid;
    r.number.clear();
    r.result = "transfer_to_number needs phone_number in E.164 (+15551234567)";
    r.is_error = true;
    return r;
  }
  r.what = tool_request::kind::transfer;
  r.result = "transferring the caller";
  return r;
}

}  // namespace voicebridge::call
