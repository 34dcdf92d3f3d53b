// The gateway's own HTTP answers: a line of text with its status, and the write of an answer bounded by
// HTTP_TIMEOUT_MS. Shared by the sessions (gateway.cpp) and the stream upgrade (stream_upgrade.cpp).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <string>

#include "voicebridge/twilio/webhook.hpp"

namespace voicebridge::server {

using http_text_response = boost::beast::http::response<boost::beast::http::string_body>;

http_text_response text_response(unsigned status, std::string body, unsigned version, bool keep_alive);
// An answer to one of Twilio's requests (TwiML, or a status with its text).
http_text_response twilio_reply(twilio::http_answer answer, unsigned version, bool keep_alive);

// False when the write failed or timed out (the connection is then to be closed).
boost::asio::awaitable<bool> write_response(boost::beast::tcp_stream& stream, http_text_response res,
                                            std::chrono::milliseconds timeout);

}  // namespace voicebridge::server
