// X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + sorted POST params)), validated as Twilio's
// helper libraries do (Twilio docs, "Webhooks security", "Validating signatures from Twilio").
#pragma once
#include <string>
#include <string_view>

#include "voicebridge/twilio/form.hpp"

namespace voicebridge::twilio {

// How a name sent twice with the same value is signed: Twilio's helper libraries differ (signature.cpp).
enum class payload_form { as_sent, deduplicated };

// The string Twilio signs: the URL, then each parameter's name and value, sorted by name byte-wise
// (values of a repeated name sorted too).
std::string signature_payload(std::string_view url, const form_params& params,
                              payload_form form = payload_form::as_sent);

std::string compute_signature(std::string_view auth_token, std::string_view url, const form_params& params,
                              payload_form form = payload_form::as_sent);

// True if `signature` matches `url` as given or in its other port form (":443"/":80" added or removed),
// with identical repeated pairs signed once or as sent, compared in constant time. For JSON bodies pass empty params and the raw body: the URL's
// bodySHA256 query parameter must then equal the body's SHA-256.
bool validate_signature(std::string_view auth_token, std::string_view signature, std::string_view url,
                        const form_params& params);
// The X-Twilio-Signature of a Media Streams WebSocket upgrade: Twilio signs the wss:// URL exactly as written
// in the TwiML, with no parameters; Twilio's "Webhooks security" page says to try it with a trailing '/' too.
bool validate_stream_signature(std::string_view auth_token, std::string_view signature, std::string_view stream_url);
bool validate_signature_with_body(std::string_view auth_token, std::string_view signature, std::string_view url,
                                  std::string_view body);

}  // namespace voicebridge::twilio
