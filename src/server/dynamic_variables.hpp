// The dynamic variables a business may hand the agent (POST /api/calls, a campaign's rows, the pre-call
// webhook's answer), checked the one way for all of them: names of letters, digits and '_', values that are
// strings, numbers or booleans and fit a Twilio <Parameter>, none of the names the gateway sets itself.
// Sans-I/O.
#pragma once
#include <boost/json/fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "voicebridge/twilio/twiml.hpp"
#include "voicebridge/util/result.hpp"

namespace voicebridge::server {

inline constexpr std::size_t max_outbound_variables = 50;
inline constexpr std::size_t max_variable_name = 64;
// A variable reaches the agent as a <Stream> <Parameter> (TwiML <Stream>, "Custom parameters": name and value
// together under 500 characters), so its value is bounded by what is left after its name.
inline constexpr std::size_t max_variable_chars = twilio::max_parameter_chars;

// Why a variable cannot reach the agent (its name, a name the gateway sets, its characters, its length).
std::optional<std::string> variable_error(std::string_view name, std::string_view value);
// A name the gateway sets itself for every call (call_sid, caller_number, direction, ...).
bool is_gateway_variable(std::string_view name);
// A "dynamic_variables" object: at most max_outbound_variables, each checked by variable_error.
util::result<std::vector<std::pair<std::string, std::string>>> read_variables(const boost::json::value& v);
// A JSON string, number or boolean as the text the agent is told (12.5, not 1.25E1).
util::result<std::string> variable_text(const boost::json::value& value);

}  // namespace voicebridge::server
