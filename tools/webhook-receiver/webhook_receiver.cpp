#include "webhook-receiver/webhook_receiver.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>

#include "common/report_escape.hpp"
#include "common/stand_in_listener.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::fake {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

bool valid_signature(const std::string& header, const std::string& body, const std::string& secret, std::int64_t now_s,
                     std::int64_t tolerance_s) {
  // t=<digits>,v1=<64 hex>
  const auto comma = header.find(",v1=");
  if (!header.starts_with("t=") || comma == std::string::npos) return false;
  const std::string t = header.substr(2, comma - 2), v1 = header.substr(comma + 4);
  std::int64_t stamp = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), stamp);
  if (ec != std::errc() || end != t.data() + t.size() || std::llabs(now_s - stamp) > tolerance_s) return false;
  const auto mac = util::hmac_sha256(secret, t + "." + body);
  return util::constant_time_equal(util::hex_lower({reinterpret_cast<const char*>(mac.data()), mac.size()}), v1);
}

struct webhook_receiver::impl {
  receiver_script script;
  receiver_record record;
  stand_in_listener listener;

  impl(asio::io_context& io, receiver_script s, std::uint16_t port)
      : script(std::move(s)), listener(io, port, script.tls_certificate_chain, script.tls_private_key) {}

  template <class Stream>  // beast::tcp_stream, or TLS over one
  asio::awaitable<void> serve(Stream stream) {
    beast::flat_buffer buffer;
    for (;;) {  // keep-alive, as real receivers are
      http::request_parser<http::string_body> parser;
      parser.body_limit(16 << 20);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
      if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple); ec) co_return;
      const auto& req = parser.get();
      received_request got{std::string(req.target()), req.body(), std::string(req["Voicebridge-Signature"]),
                           std::string(req["Idempotency-Key"]), std::string(req[http::field::content_type]), 0};
      const std::size_t index = record.requests.size();
      record.requests.push_back(got);
      if (script.never_answer) {
        char probe;
        beast::get_lowest_layer(stream).expires_never();
        co_await beast::get_lowest_layer(stream).socket().async_read_some(asio::buffer(&probe, 1), use_tuple);  // until it leaves
        co_return;
      }
      if (script.delay_ms > 0) {
        asio::steady_timer pause(stream.get_executor(), std::chrono::milliseconds(script.delay_ms));
        co_await pause.async_wait(use_tuple);
      }
      unsigned status = script.statuses[std::min(index, script.statuses.size() - 1)];
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
      if (req.method() != http::verb::post || got.content_type != "application/json") {
        status = 415;
      } else if (!script.secret.empty() && !valid_signature(got.signature, got.body, script.secret, now.count())) {
        ++record.bad_signatures;
        status = 401;
      }
      record.requests[index].answered = status;
      if (status >= 200 && status < 300) ++record.accepted[got.idempotency_key.empty() ? got.body : got.idempotency_key];
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.set(http::field::content_type, "application/json");
      res.body() = status >= 200 && status < 300 ? script.answer_body : R"({"error":"scripted"})";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
      if (auto [ec, n] = co_await http::async_write(stream, res, use_tuple); ec || !req.keep_alive()) break;
    }
    co_await finish_http_stream(stream);
  }
};

webhook_receiver::webhook_receiver(asio::io_context& io, receiver_script script, std::uint16_t port)
    : impl_(std::make_shared<impl>(io, std::move(script), port)) {
  asio::co_spawn(io, accept_connections(impl_, impl_->listener, [self = impl_](auto stream) { return self->serve(std::move(stream)); }),
                 voicebridge::tools::report_escape("webhook receiver listener"));
}
webhook_receiver::~webhook_receiver() { impl_->listener.close(); }
std::uint16_t webhook_receiver::port() const { return impl_->listener.port(); }
std::string webhook_receiver::url(const std::string& path) const {
  return std::string(impl_->listener.tls ? "https" : "http") + "://localhost:" + std::to_string(port()) + path;
}
const receiver_record& webhook_receiver::record() const { return impl_->record; }
receiver_script& webhook_receiver::script() { return impl_->script; }

}  // namespace voicebridge::fake
