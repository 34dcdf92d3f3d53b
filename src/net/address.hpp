// Where a service's base URL points. The one URL parser of the outbound side: ElevenLabs' base and signed
// URLs, the LLM's base URL, Twilio's REST base.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace voicebridge::net {

struct service_address {
  std::string scheme;  // http, https, ws or wss
  bool tls = false;    // https and wss
  std::string host;
  std::string port;    // the URL's, or 443 / 80
  std::string target;  // path and query as written ("/" when the URL has neither)
};

// http(s):// or ws(s)://host[:port][/path][?query]; nullopt for anything else.
std::optional<service_address> parse_service_url(std::string_view url);

}  // namespace voicebridge::net
