#include "server/http_replies.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

namespace voicebridge::server {
namespace http = boost::beast::http;

http_text_response text_response(unsigned status, std::string body, unsigned version, bool keep_alive) {
  http_text_response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "voicebridge");
  res.set(http::field::content_type, "text/plain");
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

http_text_response twilio_reply(twilio::http_answer answer, unsigned version, bool keep_alive) {
  http_text_response res{static_cast<http::status>(answer.status), version};
  res.set(http::field::content_type, answer.content_type);
  res.body() = std::move(answer.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

boost::asio::awaitable<bool> write_response(boost::beast::tcp_stream& stream, http_text_response res,
                                            std::chrono::milliseconds timeout) {
  res.set(http::field::server, "voicebridge");
  stream.expires_after(timeout);
  auto [ec, n] = co_await http::async_write(stream, res, boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return !ec;
}

}  // namespace voicebridge::server
