#include "voicebridge/twilio/signature.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "voicebridge/util/base64.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::twilio {
namespace {

// The URL with the port Twilio's libraries also try: explicit port removed, or the scheme's default added.
std::vector<std::string> port_variants(std::string_view url) {
  std::vector<std::string> variants{std::string(url)};
  const std::string terminated(url);  // Boost.URL 1.81 reads up to a NUL, as in form.cpp
  auto parsed = boost::urls::parse_uri(terminated);
  if (!parsed) return variants;
  boost::urls::url without(*parsed);
  without.remove_port();
  boost::urls::url with(*parsed);
  if (!with.has_port()) with.set_port(with.scheme() == "https" ? "443" : "80");
  for (const auto& u : {without, with})
    if (u.buffer() != url) variants.emplace_back(u.buffer());
  return variants;
}

bool has_repeated_pair(const form_params& params) {
  const auto& all = params.all();
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j)
      if (all[i].name == all[j].name && all[i].value == all[j].value) return true;
  return false;
}

bool matches_any(std::string_view auth_token, std::string_view signature, std::string_view url,
                 const form_params& params) {
  // A name sent twice with the same value: twilio-node's getExpectedTwilioSignature (src/webhooks/webhooks.ts,
  // toFormUrlEncodedParam) signs it once (`new Set(paramValue)`), twilio-python's
  // RequestValidator.compute_signature (twilio/request_validator.py) once per occurrence (`sorted(values)`).
  // Either signature is accepted, as one of Twilio's own libraries would accept it.
  std::vector<payload_form> forms{payload_form::as_sent};
  if (has_repeated_pair(params)) forms.push_back(payload_form::deduplicated);
  bool ok = false;
  for (const auto& candidate : port_variants(url))  // every variant is checked: no early exit on a match
    for (auto form : forms)
      ok |= util::constant_time_equal(
          compute_signature(auth_token, candidate, params, form), signature);
  return ok;
}

}  // namespace

std::string signature_payload(std::string_view url, const form_params& params, payload_form form) {
  std::vector<const form_param*> sorted;
  sorted.reserve(params.all().size());
  for (const auto& p : params.all()) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const form_param* a, const form_param* b) {
    return a->name != b->name ? a->name < b->name : a->value < b->value;  // byte-wise, as char_traits<char>
  });
  if (form == payload_form::deduplicated)
    sorted.erase(std::unique(sorted.begin(), sorted.end(),
                             [](const form_param* a, const form_param* b) { return a->name == b->name && a->value == b->value; }),
                 sorted.end());
  std::string payload(url);
  for (const auto* p : sorted) {
    payload += p->name;
    payload += p->value;
  }
  return payload;
}

std::string compute_signature(std::string_view auth_token, std::string_view url, const form_params& params,
                              payload_form form) {
  return util::base64_encode(util::hmac_sha1(auth_token, signature_payload(url, params, form)));
}

bool validate_signature(std::string_view auth_token, std::string_view signature, std::string_view url,
                        const form_params& params) {
  if (auth_token.empty() || signature.empty()) return false;
  return matches_any(auth_token, signature, url, params);
}

bool validate_signature_with_body(std::string_view auth_token, std::string_view signature, std::string_view url,
                                  std::string_view body) {
  if (!validate_signature(auth_token, signature, url, {})) return false;
  const std::string terminated(url);  // Boost.URL 1.81 reads up to a NUL, as in form.cpp
  auto parsed = boost::urls::parse_uri(terminated);
  if (!parsed) return false;
  auto hash = parsed->params().find("bodySHA256");
  if (hash == parsed->params().end() || !(*hash).has_value) return false;
  const auto digest = util::sha256(body);
  return util::constant_time_equal(
      util::hex_lower({reinterpret_cast<const char*>(digest.data()), digest.size()}), (*hash).value);
}

bool validate_stream_signature(std::string_view auth_token, std::string_view signature, std::string_view stream_url) {
  return validate_signature(auth_token, signature, stream_url, {}) ||
         validate_signature(auth_token, signature, std::string(stream_url) + "/", {});
}

}  // namespace voicebridge::twilio
