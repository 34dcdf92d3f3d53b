#include "server/outbound_request.hpp"

#include <boost/json.hpp>

#include "util/json_fields.hpp"
#include "voicebridge/twilio/twiml.hpp"

namespace voicebridge::server {
namespace json = boost::json;

util::result<const route*> requested_route(std::string_view name, const route_table& routes) {
  const route* chosen = name.empty() ? routes.catch_all() : routes.named(name);
  if (!chosen && name.empty()) return util::fail("route: required (no route takes every number)");
  if (!chosen) return util::fail("route: no route is named '" + std::string(name.substr(0, 64)) + "'");
  return chosen;
}

util::result<std::string> requested_from(std::string from, const route& chosen) {
  if (from.empty()) from = chosen.caller_id;
  if (from.empty()) return util::fail("from: required (route " + chosen.name + " has no caller_id)");
  if (!twilio::is_e164(from)) return util::fail("from: expected an E.164 number (+15551234567)");
  return from;
}

util::result<outbound_request> parse_outbound_request(std::string_view body, const route_table& routes) {
  auto parsed = util::parse_json_object(body);
  if (!parsed) return util::fail("body: expected a JSON object (" + parsed.error().message + ")");
  const auto& o = parsed->get_object();
  for (const auto& [key, value] : o) {
    if (key != "to" && key != "from" && key != "route" && key != "dynamic_variables" && key != "machine_detection")
      return util::fail("unknown field " + std::string(key).substr(0, 64));
  }
  outbound_request r;
  VB_TRY(to, util::string_field(o, "to", true));
  if (!twilio::is_e164(to)) return util::fail("to: expected an E.164 number (+15551234567)");
  r.to = std::move(to);
  VB_TRY(route_name, util::string_field(o, "route", false));
  VB_TRY(chosen, requested_route(route_name, routes));
  r.route = chosen->name;
  VB_TRY(from, util::string_field(o, "from", false));
  VB_TRY(checked_from, requested_from(std::move(from), *chosen));
  r.from = std::move(checked_from);
  if (const auto* v = o.if_contains("dynamic_variables")) {
    VB_TRY(variables, read_variables(*v));
    r.dynamic_variables = std::move(variables);
  }
  if (const auto* v = o.if_contains("machine_detection")) {
    if (!v->is_bool()) return util::fail("machine_detection: expected true or false");
    r.machine_detection = v->get_bool();
  }
  return r;
}

}  // namespace voicebridge::server
