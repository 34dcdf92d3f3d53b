#include "util/json_fields.hpp"

#include <boost/json/parse.hpp>

namespace voicebridge::util {

result<const boost::json::object*> object_field(const boost::json::object& o, std::string_view key, bool required) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) {
    if (required) return fail("missing object \"" + std::string(key) + "\"");
    return nullptr;
  }
  if (!v->is_object()) return fail("\"" + std::string(key) + "\" is not an object");
  return &v->get_object();
}

result<std::string> string_field(const boost::json::object& o, std::string_view key, bool required) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) {
    if (required) return fail("missing string \"" + std::string(key) + "\"");
    return std::string();
  }
  if (!v->is_string()) return fail("\"" + std::string(key) + "\" is not a string");
  return std::string(v->get_string());
}

result<std::int64_t> integer_field(const boost::json::object& o, std::string_view key, bool required) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) {
    if (required) return fail("missing integer \"" + std::string(key) + "\"");
    return std::int64_t{0};
  }
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v->get_uint64());
  return fail("\"" + std::string(key) + "\" is not an integer");
}

result<boost::json::value> parse_json_object(std::string_view text, boost::json::storage_ptr storage) {
  boost::json::error_code ec;
  boost::json::value root = boost::json::parse(text, ec, std::move(storage));
  if (ec) return fail("invalid JSON: " + ec.message());
  if (!root.is_object()) return fail("message is not a JSON object");
  return root;
}

}  // namespace voicebridge::util
