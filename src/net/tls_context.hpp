// The client TLS context: peer and host name verification against the system trust store (or
// SSL_CERT_FILE), shared by every outbound connection of one kind (ElevenLabs, Twilio's REST API, the LLM).
#pragma once
#include <memory>

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::net {

std::shared_ptr<boost::asio::ssl::context> make_client_tls_context();

}  // namespace voicebridge::net
