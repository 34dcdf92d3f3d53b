#include "server/precall_answer.hpp"

#include <boost/json.hpp>

#include "server/dynamic_variables.hpp"
#include "util/json_fields.hpp"

namespace voicebridge::server {
namespace json = boost::json;

std::string precall_body(const precall_request& r) {
  json::object body{{"call_sid", r.call_sid}, {"direction", r.direction}, {"from", r.from}, {"to", r.to}, {"route", r.route}};
  if (!r.campaign.empty()) body["campaign"] = r.campaign;
  if (!r.row_variables.empty()) {
    json::object variables;
    for (const auto& [name, value] : r.row_variables) variables[name] = value;
    body["row_variables"] = std::move(variables);
  }
  return json::serialize(body);
}

util::result<call::precall_answer> parse_precall_answer(std::string_view body) {
  if (body.size() > max_precall_answer_bytes) return util::fail("the answer is over 64 KiB");
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return call::precall_answer{};  // 204, or empty: defaults
  auto parsed = util::parse_json_object(body);
  if (!parsed) return util::fail("not a JSON object: " + parsed.error().message);
  call::precall_answer answer;
  for (const auto& [key, value] : parsed->get_object()) {
    if (key == "dynamic_variables") {
      // The call's own facts are the gateway's: a receiver that echoes them back is not wrong, only ignored.
      json::value named = value;
      if (auto* o = named.if_object()) {
        for (auto it = o->begin(); it != o->end();) {
          if (!is_gateway_variable(it->key())) {
            ++it;
            continue;
          }
          answer.ignored.emplace_back(it->key());
          it = o->erase(it);
        }
      }
      auto variables = read_variables(named);
      if (!variables) return util::fail(variables.error().message);
      answer.dynamic_variables = std::move(*variables);
    } else if (key == "conversation_config_override") {
      if (!value.is_object()) return util::fail("conversation_config_override: expected an object");
      answer.config_override_json = json::serialize(value);
      if (answer.config_override_json.size() > max_precall_override_bytes)
        return util::fail("conversation_config_override: at most 16 KiB");
    } else {
      return util::fail("unknown field " + std::string(key).substr(0, 64) +
                        " (expected dynamic_variables, conversation_config_override)");
    }
  }
  return answer;
}

}  // namespace voicebridge::server
