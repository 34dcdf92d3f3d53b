#include "fake-twilio-api/fake_twilio_api.hpp"

#include "common/stand_in_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include "voicebridge/twilio/form.hpp"
#include "voicebridge/util/base64.hpp"
#include "common/report_escape.hpp"

namespace voicebridge::fake {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string twilio_error(unsigned status, int code, const std::string& message) {
  return boost::json::serialize(boost::json::object{
      {"code", code}, {"message", message}, {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
      {"status", status}});
}
}  // namespace

struct fake_twilio_api::impl {
  twilio_api_settings settings;
  stand_in_listener listener;
  std::vector<call_update> updates;

  impl(asio::io_context& io, twilio_api_settings s)
      : settings(std::move(s)), listener(io, 0, settings.tls_certificate_chain, settings.tls_private_key) {}

  template <class Stream>
  static asio::awaitable<void> serve(Stream stream, std::shared_ptr<impl> self) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    if (auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple); ec) co_return;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    call_update update;
    auto [status, body] = self->answer(req, update);
    update.answered = status;
    self->updates.push_back(update);
    res.result(status);
    res.body() = std::move(body);
    res.prepare_payload();
    co_await http::async_write(stream, res, use_tuple);
  }

  std::pair<unsigned, std::string> answer(const http::request<http::string_body>& req, call_update& update) const {
    const std::string credentials = settings.account_sid + ":" + settings.auth_token;
    const std::string expected_auth =
        "Basic " + util::base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(credentials.data()), credentials.size()));
    if (req[http::field::authorization] != expected_auth) return {401, twilio_error(401, 20003, "Authenticate")};
    const std::string prefix = "/2010-04-01/Accounts/" + settings.account_sid + "/Calls/";
    const std::string target(req.target());
    if (req.method() != http::verb::post || !target.starts_with(prefix) || !target.ends_with(".json"))
      return {404, twilio_error(404, 20404, "The requested resource was not found")};
    update.call_sid = target.substr(prefix.size(), target.size() - prefix.size() - 5);
    if (!req[http::field::content_type].starts_with("application/x-www-form-urlencoded"))
      return {400, twilio_error(400, 21100, "Content-Type must be application/x-www-form-urlencoded")};
    auto form = twilio::parse_form(req.body());
    if (!form) return {400, twilio_error(400, 21100, "malformed form body")};
    const auto twiml = form->get("Twiml");
    const auto url = form->get("Url");
    if (twiml.has_value() == url.has_value()) return {400, twilio_error(400, 21205, "Exactly one of Twiml or Url is required")};
    if (twiml && twiml->size() > 4000) return {400, twilio_error(400, 32018, "Twiml is longer than 4000 characters")};
    update.twiml = std::string(twiml.value_or(""));
    return {200, boost::json::serialize(boost::json::object{
                     {"sid", update.call_sid}, {"account_sid", settings.account_sid}, {"status", "in-progress"}})};
  }
};

fake_twilio_api::fake_twilio_api(asio::io_context& io, twilio_api_settings settings)
    : impl_(std::make_shared<impl>(io, std::move(settings))) {
  asio::co_spawn(io, accept_connections(impl_, impl_->listener,
                                        [self = impl_](auto stream) { return impl::serve(std::move(stream), self); }),
                 voicebridge::tools::report_escape("fake Twilio API listener"));
}

fake_twilio_api::~fake_twilio_api() {
  impl_->listener.close();
}

std::uint16_t fake_twilio_api::port() const { return impl_->listener.port(); }
const std::vector<call_update>& fake_twilio_api::updates() const { return impl_->updates; }

}  // namespace voicebridge::fake
