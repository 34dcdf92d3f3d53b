// Typed field readers for parsers of JSON messages from the network: an absent optional field gives the
// default, a present field of the wrong type is an error that names it.
#pragma once
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "voicebridge/util/result.hpp"

namespace voicebridge::util {

// nullptr when absent and not required.
result<const boost::json::object*> object_field(const boost::json::object& o, std::string_view key, bool required);
result<std::string> string_field(const boost::json::object& o, std::string_view key, bool required);
// A JSON integer; absent: 0 unless required.
result<std::int64_t> integer_field(const boost::json::object& o, std::string_view key, bool required);
// A JSON object text; Both shapes Twilio and ElevenLabs use are objects. The DOM lives in `storage`.
result<boost::json::value> parse_json_object(std::string_view text, boost::json::storage_ptr storage = {});

// Memory for the DOM of one message on the per-frame path: a media message parses without touching the heap
// (a larger one spills over to it), and all of it is released at once with the scratch.
class json_scratch {
 public:
  boost::json::storage_ptr storage() { return boost::json::storage_ptr(&resource_); }

 private:
  unsigned char buffer_[4096];
  boost::json::monotonic_resource resource_{buffer_, sizeof buffer_};
};

}  // namespace voicebridge::util

// Unwraps a result into `var` or returns its error from the enclosing function.
#define VB_TRY(var, expr)                  \
  auto var##_result = (expr);              \
  if (!var##_result) return var##_result.error(); \
  auto var = std::move(*var##_result)
