// POST /api/calls: an outbound call as the business asks for it, checked field by field before anything is
// dialled (sans-I/O: the body and the routes in force in, the call to place or the reason out). Every
// mistake is one line naming the field, answered 400.
#pragma once
#include <boost/json/fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/routes.hpp"
#include "voicebridge/twilio/twiml.hpp"
#include "voicebridge/util/result.hpp"

namespace voicebridge::server {

struct outbound_request {
  std::string to, from;  // E.164; `from` defaults to the route's caller_id
  std::string route;     // a route's name; absent: the catch-all route ("*")
  std::vector<std::pair<std::string, std::string>> dynamic_variables;  // values as text (numbers, booleans)
  bool machine_detection = false;
};

// Bounds on what a request may hand the agent.
inline constexpr std::size_t max_outbound_variables = 50;
inline constexpr std::size_t max_variable_name = 64;
// A variable reaches the agent as a <Stream> <Parameter> (TwiML <Stream>, "Custom parameters": name and value
// together under 500 characters), so its value is bounded by what is left after its name.
inline constexpr std::size_t max_variable_chars = twilio::max_parameter_chars;

util::result<outbound_request> parse_outbound_request(std::string_view body, const route_table& routes);

// The parts campaigns share (server/campaign_request.hpp).
// Why a variable cannot reach the agent (its name, a name the gateway sets, its characters, its length).
std::optional<std::string> variable_error(std::string_view name, std::string_view value);
// A name the gateway sets itself for every call (call_sid, caller_number, direction, ...).
bool is_gateway_variable(std::string_view name);
// A "dynamic_variables" object: at most max_outbound_variables, each checked by variable_error.
util::result<std::vector<std::pair<std::string, std::string>>> read_variables(const boost::json::value& v);
// A JSON string, number or boolean as the text the agent is told (12.5, not 1.25E1).
util::result<std::string> variable_text(const boost::json::value& value);
// The route a request names (empty: the catch-all), and its `from` (empty: the route's caller_id).
util::result<const route*> requested_route(std::string_view name, const route_table& routes);
util::result<std::string> requested_from(std::string from, const route& chosen);

}  // namespace voicebridge::server
