#include "net/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

namespace voicebridge::net {

boost::system::error_code tls_stream::expect_host(const std::string& host) {
  SSL* ssl = engine_.native_handle();
  boost::system::error_code not_an_address;
  boost::asio::ip::make_address(host, not_an_address);
  ERR_clear_error();
  bool ok = false;
  if (not_an_address) {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set_tlsext_host_name(ssl, host.c_str()) && SSL_set1_host(ssl, host.c_str());
  } else {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  }
  if (ok) return {};
  if (const auto library_error = ERR_get_error())
    return {static_cast<int>(library_error), boost::asio::error::get_ssl_category()};
  return boost::asio::ssl::error::unexpected_result;
}

}  // namespace voicebridge::net
