// The console's HTML: escaping for every value that comes from a call, the page around each page's body,
// and the small pieces every page uses. Sans-I/O: strings in, strings out.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "util/markup.hpp"

namespace voicebridge::server::console {

// Text for an HTML element or a quoted attribute (util/markup.hpp). Every value from a call, a route, a
// campaign or a request goes through this (numbers, transcripts, variables, names).
inline std::string escape(std::string_view text) { return util::escape_markup(text); }

// The navigation's sections, in order; `section` marks the current one.
std::string layout(std::string_view title, std::string_view section, std::string_view body, std::string_view csrf);
// The sign-in page (no session, so no navigation); `message` is shown above the form.
std::string sign_in_page(std::string_view message);
// A page with one line of text, for a refused action or a call that is not there.
std::string message_page(std::string_view title, std::string_view text, std::string_view csrf);

// A <time> the console's script shows in the browser's time zone (UTC without it).
std::string time_tag(std::int64_t epoch_ms);
std::string duration_text(std::int64_t ms);  // "4:05", "1:02:03"
// The hidden field of a state-changing form.
std::string csrf_field(std::string_view csrf);
// A form with one button that POSTs `action` (with the CSRF token); `fields`: more hidden inputs, as markup.
std::string action_button(std::string_view action, std::string_view label, std::string_view csrf,
                          std::string_view fields = {}, std::string_view css_class = {});

}  // namespace voicebridge::server::console
