#include "voicebridge/twilio/form.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace voicebridge::twilio {

std::optional<std::string_view> form_params::get(std::string_view name) const {
  for (const auto& p : params_)
    if (p.name == name) return p.value;
  return std::nullopt;
}

std::string_view form_params::get_or(std::string_view name, std::string_view fallback) const {
  return get(name).value_or(fallback);
}

util::result<form_params> parse_form(std::string_view text) {
  // Boost.URL 1.81's parse_query reads its input up to a NUL (seen under ASan): give it a terminated copy.
  const std::string terminated(text);
  auto parsed = boost::urls::parse_query(terminated);
  if (!parsed) return util::fail("malformed form data: " + parsed.error().message());
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  form_params params;
  for (const auto& p : *parsed) {
    if (p.key.empty() && !p.has_value) continue;  // "a=1&&b=2" has an empty field, as browsers send
    params.add(p.key.decode(opts), p.has_value ? p.value.decode(opts) : std::string());
  }
  return params;
}

std::string encode_form(const form_params& params) {
  std::string out;
  for (const auto& p : params.all()) {
    if (!out.empty()) out.push_back('&');
    out += boost::urls::encode(p.name, boost::urls::unreserved_chars);
    out.push_back('=');
    out += boost::urls::encode(p.value, boost::urls::unreserved_chars);
  }
  return out;
}

}  // namespace voicebridge::twilio
