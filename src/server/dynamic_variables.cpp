#include "server/dynamic_variables.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>

#include "util/utf8.hpp"

namespace voicebridge::server {
namespace json = boost::json;

namespace {

// Names the gateway sets itself for every call: a request cannot override what the agent is told of the
// call's own facts.
constexpr std::array<std::string_view, 11> reserved_variables{"call_sid",     "caller_number", "called_number", "direction",
                                                              "stream_token", "route",         "from",          "to",
                                                              "machine_detection", "campaign", "reconnects"};

// 12.5, not Boost.JSON's 1.25E1: the text the agent is told is what the business wrote.
std::string shortest(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

bool valid_variable_name(std::string_view name) {
  return !name.empty() && name.size() <= max_variable_name && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

bool is_gateway_variable(std::string_view name) {
  return std::find(reserved_variables.begin(), reserved_variables.end(), name) != reserved_variables.end();
}

std::optional<std::string> variable_error(std::string_view name, std::string_view value) {
  if (!valid_variable_name(name)) return "'" + std::string(name.substr(0, 64)) + "' is not a name (letters, digits, _)";
  if (is_gateway_variable(name)) return std::string(name) + " is set by the gateway";
  // It travels in TwiML: XML cannot carry a control character (and Twilio would fail the answered call).
  if (!util::is_xml_text(value)) return std::string(name) + ": holds a control character";
  if (name.size() + value.size() > max_variable_chars)
    return std::string(name) + ": name and value together at most " + std::to_string(max_variable_chars) +
           " bytes (a Twilio <Parameter>)";
  return std::nullopt;
}

util::result<std::string> variable_text(const json::value& value) {
  if (value.is_string()) return std::string(value.get_string());
  if (value.is_int64()) return std::to_string(value.get_int64());
  if (value.is_uint64()) return std::to_string(value.get_uint64());
  if (value.is_double()) return shortest(value.get_double());
  if (value.is_bool()) return std::string(value.get_bool() ? "true" : "false");
  return util::fail("expected a string, a number or a boolean");
}

util::result<std::vector<std::pair<std::string, std::string>>> read_variables(const json::value& v) {
  if (!v.is_object()) return util::fail("dynamic_variables: expected an object");
  const auto& o = v.get_object();
  if (o.size() > max_outbound_variables)
    return util::fail("dynamic_variables: at most " + std::to_string(max_outbound_variables) + " variables");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, value] : o) {
    const std::string name(key);
    if (!valid_variable_name(name)) return util::fail("dynamic_variables: " + *variable_error(name, ""));
    auto text = variable_text(value);
    if (!text) return util::fail("dynamic_variables: " + name + ": " + text.error().message);
    if (auto error = variable_error(name, *text)) return util::fail("dynamic_variables: " + *error);
    out.emplace_back(name, std::move(*text));
  }
  return out;
}

}  // namespace voicebridge::server
