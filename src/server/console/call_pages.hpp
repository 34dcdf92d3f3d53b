// The console's calls list and one call's page, rendered from the records (sans-I/O).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "records/call_record.hpp"
#include "records/call_search.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/util/result.hpp"

namespace voicebridge::server::console {

inline constexpr std::size_t calls_per_page = 50;

// The calls page's filter form as it was sent: the fields as typed (to show them again) and the filter they
// make. The number may only come in a POST body: numbers never go into a URL that a proxy might log.
struct calls_form {
  std::string route, outcome, direction, since, until, number, after;
  int tz_offset_min = 0;  // the browser's (Date.getTimezoneOffset): dates are the operator's days, UTC without it
  records::call_filter filter;
};
util::result<calls_form> read_calls_form(const twilio::form_params& fields, bool number_allowed);

struct calls_listing {
  calls_form form;
  std::vector<records::call_record> calls;  // one page, and one more record when there is a next page
  std::vector<std::string> routes;          // the routes in force, for the filter's choices
};
std::string calls_page(const calls_listing& listing, std::string_view csrf);

struct call_audio_links {
  bool recording = false, voicemail = false;
};
// `variables`: an outbound call's dynamic variables as POST /api/calls or its campaign gave them ("campaign"
// names the campaign).
using call_variables = std::vector<std::pair<std::string, std::string>>;
std::string call_page(const records::call_record& record, call_audio_links audio, const call_variables& variables,
                      std::string_view csrf);

}  // namespace voicebridge::server::console
