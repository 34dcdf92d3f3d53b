#include "server/stream_upgrade.hpp"

#include <boost/asio/co_spawn.hpp>

#include "app/report_escape.hpp"
#include "net/call_contexts.hpp"
#include "server/http_replies.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/signature.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
using app::log;
using app::log_level;
using app::metrics;

namespace {

// The io_context the call's URL names; nullptr for none, or for a name this process does not have (a stream
// sent here from an instance with more threads): that is only a hint.
asio::io_context* named_context(std::optional<unsigned> named, net::call_contexts& contexts) {
  if (!named || *named >= contexts.size()) return nullptr;
  return &contexts.at(*named);
}

// The call outlives this HTTP exchange: it runs as a coroutine of its own, so that the HTTP session's frames
// and buffers are freed now rather than kept for the length of the call. The completion handler holds the
// server for as long as the call runs.
void spawn_call(beast::tcp_stream stream, beast::http::request<beast::http::string_body> req, call::upgrade_auth auth,
                call::pending_streams::ticket ticket, call::stream_services& services, std::shared_ptr<void> owner) {
  const auto executor = stream.get_executor();
  asio::co_spawn(executor, call::serve_twilio_stream(std::move(stream), std::move(req), auth, std::move(ticket), services),
                 [owner = std::move(owner), report = app::report_escape("call")](std::exception_ptr e) { report(e); });
}

}  // namespace

asio::awaitable<void> upgrade_to_stream(beast::tcp_stream stream, beast::http::request<beast::http::string_body> req,
                                        const app::config& config, call::pending_streams& pending,
                                        call::stream_services& services, net::call_contexts& contexts, bool draining,
                                        std::shared_ptr<void> owner) {
  const std::string_view path = req.target().substr(0, req.target().find('?'));
  const auto parts = app::parse_stream_path(path);
  if (!parts) {
    co_await write_response(stream, text_response(404, "not found\n", req.version(), false), config.http_timeout);
    co_return;
  }
  if (draining && config.instance_id_configured && parts->instance != config.instance_id) {
    metrics().rejected_streams.inc("draining");
    log(log_level::info, "stream refused: draining, and its call was answered elsewhere", {{"path", path}});
    co_await write_response(stream, text_response(503, "draining\n", req.version(), false), config.http_timeout);
    co_return;
  }
  if (config.twilio_auth_token.empty() || config.twilio_stream_token.empty()) {
    log(log_level::error, "stream refused: TWILIO_AUTH_TOKEN or TWILIO_STREAM_TOKEN is not configured");
    co_await write_response(stream, text_response(500, "gateway not configured\n", req.version(), false), config.http_timeout);
    co_return;
  }
  // Twilio signs the upgrade with X-Twilio-Signature over the stream URL alone (the path its TwiML named: this
  // instance's key, or another's when the load balancer sent it here anyway); without it, the call must
  // authenticate with the token in its `start`.
  const auto signature = req.find("X-Twilio-Signature");
  const auto auth = signature == req.end() ? call::upgrade_auth::none : call::upgrade_auth::twilio_signature;
  if (signature != req.end() &&
      !twilio::validate_stream_signature(config.twilio_auth_token, signature->value(), config.stream_url_for(path))) {
    metrics().rejected_streams.inc("bad_credentials");
    log(log_level::warn, "stream upgrade refused: invalid credentials", {{"path", path}});
    co_await write_response(stream, text_response(403, "forbidden\n", req.version(), false), config.http_timeout);
    co_return;
  }
  // Until its `start` authenticates, a socket takes a place among the pending ones, never a call slot:
  // MAX_CALLS is checked when it authenticates (call/twilio_stream.cpp).
  beast::error_code peer_error;
  const auto peer = stream.socket().remote_endpoint(peer_error);
  const std::string address = peer_error ? std::string() : peer.address().to_string();
  std::string_view refused_by;
  auto ticket = pending.try_enter(address, refused_by);
  if (!ticket) {
    metrics().rejected_streams.inc("too_many_pending");
    metrics().limit_hits.inc(refused_by);
    log(log_level::warn, "stream upgrade refused: too many sockets waiting for an authenticated start",
        {{"limit", refused_by}, {"address", address}});
    co_await write_response(stream, text_response(503, "too many pending streams\n", req.version(), false), config.http_timeout);
    co_return;
  }
  // The call runs where its pre-warmed conversation does: the socket moves to the io thread its URL names
  // (the webhook chose it), so that every frame of the call stays on that thread.
  std::optional<beast::tcp_stream> call_stream;
  if (auto* there = named_context(parts->call_context, contexts)) {
    auto moved = net::move_socket(stream.socket(), *there);
    if (!moved) {
      metrics().rejected_streams.inc("not_moved");
      log(log_level::error, "stream dropped: its socket could not move to the io thread its URL names");
      co_return;
    }
    call_stream.emplace(std::move(*moved));
  } else {
    call_stream.emplace(std::move(stream));
  }
  spawn_call(std::move(*call_stream), std::move(req), auth, std::move(ticket), services, std::move(owner));
}

}  // namespace voicebridge::server
