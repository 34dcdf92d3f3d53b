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

#include "server/dynamic_variables.hpp"
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

util::result<outbound_request> parse_outbound_request(std::string_view body, const route_table& routes);

// The parts campaigns share (server/campaign_request.hpp); the variables' checks: server/dynamic_variables.hpp.
// The route a request names (empty: the catch-all), and its `from` (empty: the route's caller_id).
util::result<const route*> requested_route(std::string_view name, const route_table& routes);
util::result<std::string> requested_from(std::string from, const route& chosen);

}  // namespace voicebridge::server
