#include "net/ws_upgrade.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/websocket/error.hpp>
#include <stdexcept>

#include "voicebridge/util/base64.hpp"

namespace voicebridge::net {
namespace websocket = boost::beast::websocket;

std::string make_ws_key() {
  std::array<std::uint8_t, 16> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return util::base64_encode(nonce);
}

std::string ws_accept_for(std::string_view key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string keyed(key);
  keyed += guid;
  std::array<std::uint8_t, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(keyed.data()), keyed.size(), digest.data());
  return util::base64_encode(digest);
}

using boost::beast::iequals;

boost::system::error_code check_ws_upgrade_answer(const ws_upgrade_answer& answer, std::string_view key) {
  if (answer.status != 101) return websocket::error::upgrade_declined;
  if (answer.upgrade.empty()) return websocket::error::no_upgrade;
  if (!iequals(answer.upgrade, "websocket")) return websocket::error::no_upgrade_websocket;
  if (answer.connection.empty()) return websocket::error::no_connection;
  // A token list (RFC 7230, section 6.1: "Connection: keep-alive, Upgrade"), compared without case.
  bool lists_upgrade = false;
  for (const auto token : boost::beast::http::token_list(answer.connection))
    lists_upgrade = lists_upgrade || iequals(token, "upgrade");
  if (!lists_upgrade) return websocket::error::no_connection_upgrade;
  if (answer.accept.empty()) return websocket::error::no_sec_accept;
  if (answer.accept != ws_accept_for(key)) return websocket::error::bad_sec_accept;
  return {};
}

}  // namespace voicebridge::net
