#include "twilio-sim/webhook_requests.hpp"

#include <tinyxml2.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/signature.hpp"

namespace voicebridge::sim {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A signed form POST to the gateway, as Twilio makes its webhooks: `url` is the public URL it signs, its path
// the request's target. The answer's status and body, or an error in `s.error`.
asio::awaitable<std::optional<http::response<http::string_body>>> post_signed_form(const options& o, const std::string& url,
                                                                                 const twilio::form_params& form,
                                                                                 bool sign, call_summary& s) {
  const auto parsed = boost::urls::parse_uri(url);
  const std::string path = parsed ? std::string(parsed->encoded_target()) : url;  // path and query, as signed
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, o.host);
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  req.set(http::field::user_agent, "TwilioProxy/1.1");
  if (sign) req.set("X-Twilio-Signature", twilio::compute_signature(o.auth_token, url, form));
  req.body() = twilio::encode_form(form);
  req.prepare_payload();

  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(15s);  // Twilio's whole-webhook budget
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(o.host, std::to_string(o.port), use_tuple);
  if (rec) {
    s.error = "resolve " + o.host + ": " + rec.message();
    co_return std::nullopt;
  }
  if (auto [ec, ep] = co_await stream.async_connect(endpoints, use_tuple); ec) {
    s.error = "webhook connect: " + ec.message();
    co_return std::nullopt;
  }
  co_await http::async_write(stream, req, use_tuple);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (auto [ec, n] = co_await http::async_read(stream, buffer, res, use_tuple); ec) {
    s.error = "webhook response: " + ec.message();
    co_return std::nullopt;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return res;
}

twilio::form_params call_form(const options& o, const call_summary& s, std::string_view call_status) {
  twilio::form_params form;
  for (auto [name, value] : {std::pair<const char*, std::string>{"AccountSid", o.account_sid},
                             {"ApiVersion", "2010-04-01"}, {"CallSid", s.call_sid}, {"CallStatus", std::string(call_status)},
                             {"Direction", o.direction}, {"From", o.from}, {"To", o.to}, {"Caller", o.from},
                             {"Called", o.to}})
    form.add(name, value);
  return form;
}

}  // namespace

bool parse_twiml(call_summary& s) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(s.twiml.c_str(), s.twiml.size()) != tinyxml2::XML_SUCCESS) return false;
  auto* response = doc.FirstChildElement("Response");
  auto* connect = response ? response->FirstChildElement("Connect") : nullptr;
  auto* stream = connect ? connect->FirstChildElement("Stream") : nullptr;
  if (!stream || !stream->Attribute("url")) return false;
  s.stream_url = stream->Attribute("url");
  s.connect_action = connect->Attribute("action") ? connect->Attribute("action") : "";
  s.parameters.clear();
  for (auto* p = stream->FirstChildElement("Parameter"); p; p = p->NextSiblingElement("Parameter"))
    s.parameters.emplace_back(p->Attribute("name") ? p->Attribute("name") : "",
                              p->Attribute("value") ? p->Attribute("value") : "");
  return true;
}

asio::awaitable<void> post_webhook(const options& o, call_summary& s) {
  auto res = co_await post_signed_form(o, o.public_base_url + o.webhook_path, call_form(o, s, o.call_status), o.sign_webhook, s);
  if (!res) co_return;
  s.webhook_status = res->result_int();
  s.twiml = res->body();
}

asio::awaitable<bool> post_connect_action(const options& o, call_summary& s) {
  auto res = co_await post_signed_form(o, s.connect_action, call_form(o, s, "in-progress"), true, s);
  if (!res || res->result_int() != 200) {
    if (res) s.error = "connect action answered HTTP " + std::to_string(res->result_int());
    co_return false;
  }
  s.twiml = res->body();
  const bool fresh_stream = s.twiml.find("<Connect") != std::string::npos;
  s.action_answers.push_back(fresh_stream ? "stream" : s.twiml.find("<Say") != std::string::npos ? "apology" : "hangup");
  co_return fresh_stream;
}

}  // namespace voicebridge::sim
