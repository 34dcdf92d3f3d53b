// Twilio's upgrade to the Media Streams WebSocket, before the call: the path, the gateway's credentials, the
// upgrade's own signature when it carries one, and a place in the pending-stream budget; then the call runs
// as a coroutine of its own (call/twilio_stream.hpp), holding `owner` (the gateway) for as long as it runs, on
// the io thread the path names (net/call_contexts.hpp), or on the one that accepted the socket.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>

#include "call/pending_streams.hpp"
#include "call/twilio_stream.hpp"
#include "voicebridge/app/config.hpp"

namespace voicebridge::net {
class call_contexts;
}

namespace voicebridge::server {

// `draining`: with INSTANCE_ID set, only streams keyed to this instance (their webhook was answered here
// before the drain) are taken; any other is refused 503, and the load balancer tries a live instance.
boost::asio::awaitable<void> upgrade_to_stream(boost::beast::tcp_stream stream,
                                               boost::beast::http::request<boost::beast::http::string_body> req,
                                               const app::config& config, call::pending_streams& pending,
                                               call::stream_services& services, net::call_contexts& contexts,
                                               bool draining, std::shared_ptr<void> owner);

}  // namespace voicebridge::server
