// libFuzzer: the pre-call webhook's answer (what the business's system sends back, so anything at all),
// checked by server::parse_precall_answer and laid over a route's initiation data. Whatever it takes must be
// what the gateway promises the agent: variables that pass the same checks as POST /api/calls, none of the
// gateway's own names, an override that is a JSON object within its bound; and the merged initiation must
// still serialize to a JSON object that keeps the call's own facts.
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/dynamic_variables.hpp"
#include "server/precall_answer.hpp"
#include "voicebridge/elevenlabs/agent_messages.hpp"

using namespace voicebridge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto answer = server::parse_precall_answer(body);
  if (!answer) {
    if (answer.error().message.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  if (answer->dynamic_variables.size() > server::max_outbound_variables) std::abort();
  for (const auto& [name, value] : answer->dynamic_variables)
    if (server::variable_error(name, value) || server::is_gateway_variable(name)) std::abort();
  for (const auto& name : answer->ignored)
    if (!server::is_gateway_variable(name)) std::abort();
  if (answer->config_override_json.size() > server::max_precall_override_bytes) std::abort();
  boost::json::error_code ec;
  if (!answer->config_override_json.empty() && !boost::json::parse(answer->config_override_json, ec).is_object()) std::abort();

  elevenlabs::initiation_client_data init;
  init.dynamic_variables = {{"caller_number", "+15550001111"}, {"call_sid", "CA0123"}};
  init.config_override_json = R"({"agent":{"language":"en"}})";
  elevenlabs::merge_precall(init, answer->dynamic_variables, answer->config_override_json);
  if (init.dynamic_variables[0].second != "+15550001111" || init.dynamic_variables[1].second != "CA0123") std::abort();
  const auto message = boost::json::parse(elevenlabs::serialize_initiation(init), ec);
  if (ec || !message.is_object()) std::abort();
  return 0;
}
