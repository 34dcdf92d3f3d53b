// The voicebridge HTTP/WebSocket server: Twilio's webhooks, the Media Streams endpoint and health.
#pragma once
#include <cstdint>
#include <memory>

#include "voicebridge/app/config.hpp"

namespace boost::asio {
class io_context;
}

namespace voicebridge::net {

class server {
 public:
  server(boost::asio::io_context& io, app::config config);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and starts accepting. Returns the bound port (useful with PORT=0). Throws on bind errors.
  std::uint16_t start();
  // Stops accepting new connections; calls in progress run to their end.
  void stop_accepting();
  std::size_t active_calls() const;
  const app::config& config() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace voicebridge::net
