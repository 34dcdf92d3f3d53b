// The pre-call webhook's two bodies, without I/O (server/precall.hpp sends them): the request that names
// the call, and the answer, checked before anything of it reaches the agent. Fuzzed (fuzz_precall_answer).
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "call/precall_answers.hpp"
#include "voicebridge/util/result.hpp"

namespace voicebridge::server {

struct precall_request {
  std::string call_sid, direction, from, to, route;
  std::string campaign;  // an outbound call a campaign placed; empty otherwise
  std::vector<std::pair<std::string, std::string>> row_variables;  // an outbound call's request (or row) variables
};

inline constexpr std::size_t max_precall_answer_bytes = 64 * 1024;
inline constexpr std::size_t max_precall_override_bytes = 16 * 1024;

std::string precall_body(const precall_request& request);
// The answer's body, checked: an object; variables as POST /api/calls takes them (names, types, sizes;
// the gateway's own names set aside in `ignored`); an override that is an object of at most
// max_precall_override_bytes; nothing else.
util::result<call::precall_answer> parse_precall_answer(std::string_view body);

}  // namespace voicebridge::server
