#include "net/address.hpp"

#include <boost/url/parse.hpp>

namespace voicebridge::net {

std::optional<service_address> parse_service_url(std::string_view text) {
  const std::string terminated(text);  // Boost.URL 1.81 reads a view up to a NUL in some paths
  auto url = boost::urls::parse_uri(terminated);
  if (!url || url->host().empty()) return std::nullopt;
  service_address a;
  a.scheme = std::string(url->scheme());
  if (a.scheme == "https" || a.scheme == "wss") a.tls = true;
  else if (a.scheme != "http" && a.scheme != "ws") return std::nullopt;
  a.host = std::string(url->host());
  a.port = url->has_port() ? std::string(url->port()) : a.tls ? "443" : "80";
  a.target = std::string(url->encoded_path());
  if (a.target.empty()) a.target = "/";
  if (url->has_query()) a.target += "?" + std::string(url->encoded_query());
  return a;
}

}  // namespace voicebridge::net
