// libFuzzer: a webhook's form body and its signature check (Twilio docs, "Webhooks security"). The decoder must accept or
// refuse any bytes; a signature computed over what was decoded must validate, and a changed one must not.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/signature.hpp"

using namespace voicebridge::twilio;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // First line: the X-Twilio-Signature header as received; the rest: the body.
  const auto newline = input.find('\n');
  const std::string_view header = newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  const std::string body(newline == std::string_view::npos ? input : input.substr(newline + 1));
  auto params = parse_form(body);
  if (!params) return 0;
  const std::string url = "https://gw.example.test/api/twilio/voice/inbound";
  const std::string token = "fuzz-auth-token";
  (void)validate_signature(token, header, url, *params);
  (void)validate_signature_with_body(token, header, url + "?bodySHA256=x", body);
  const auto good = compute_signature(token, url, *params);
  if (!validate_signature(token, good, url, *params)) std::abort();
  std::string bad = good;
  bad[0] = bad[0] == 'A' ? 'B' : 'A';
  if (validate_signature(token, bad, url, *params)) std::abort();
  // Re-encoding what was decoded gives a body that decodes to the same parameters.
  auto again = parse_form(encode_form(*params));
  if (!again || compute_signature(token, url, *again) != good) std::abort();
  return 0;
}
