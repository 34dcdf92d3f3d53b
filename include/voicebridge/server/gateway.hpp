// The gateway: the voicebridge HTTP/WebSocket server: Twilio's webhooks, the Media Streams endpoint and health.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "voicebridge/app/config.hpp"

namespace boost::asio {
class io_context;
}

namespace voicebridge::server {

class gateway {
 public:
  // `io` and each of `more_io` must be run by one thread each (and outlive the gateway). Connections and calls
  // are spread over them, each call on one; `io` also has the listeners and the gateway's own work.
  gateway(boost::asio::io_context& io, app::config config, std::vector<boost::asio::io_context*> more_io = {});
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  // Binds and starts accepting (and the metrics port, if METRICS_ADDRESS is set). Returns the bound port
  // (useful with PORT=0). Throws on bind errors.
  std::uint16_t start();
  // Stops accepting new connections; calls in progress run to their end.
  void stop_accepting();
  // From now on the voice webhook and /healthz answer 503; calls in progress carry on.
  void begin_drain();
  // Asks every call in progress to end: as a hang-up would (Twilio stream closed with 1001, agent socket with
  // 1000), or with `terminal`, by dropping its sockets at once.
  void end_calls(bool terminal = false);
  // Until no call is active (true) or `deadline` passes (false): woken by the last call's end, not polled.
  boost::asio::awaitable<bool> calls_ended(std::chrono::steady_clock::time_point deadline);
  std::uint16_t metrics_port() const;  // 0 without METRICS_ADDRESS
  std::size_t active_calls() const;     // authenticated streams (what MAX_CALLS and the drain count)
  std::size_t pending_streams() const;  // stream sockets still waiting for an authenticated `start`
  const app::config& config() const;
  // A route's fallback prompt as callers hear it (8 kHz mu-law), synthesized or converted at start-up.
  const std::vector<std::uint8_t>& fallback_prompt(std::string_view route = "default") const;
  // Reads ROUTES_FILE again (SIGHUP): new calls get the new routes, calls in progress keep theirs. A file
  // that fails its checks changes nothing: the error is returned (and logged).
  std::optional<std::string> reload_routes();
  // Until every call record handed over so far (after its call's files) is in the database, or the
  // timeout passed (false).
  bool wait_records_stored(std::chrono::milliseconds timeout);
  // Until every call's files are written and its record stored or spooled (the database may be down):
  // before the process exits.
  bool flush_records(std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace voicebridge::server
