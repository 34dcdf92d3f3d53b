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
#include <chrono>
#include <deque>
#include <random>
#include <variant>

#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/twiml.hpp"
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

std::string new_call_sid() {
  static std::mt19937_64 random{std::random_device{}()};
  std::string sid = "CA";
  for (int i = 0; i < 32; ++i) sid += "0123456789abcdef"[random() % 16];
  return sid;
}

bool is_http_url(std::string_view url) {
  return (url.starts_with("https://") || url.starts_with("http://")) && url.find("//") + 2 < url.size();
}
}  // namespace

struct fake_twilio_api::impl {
  twilio_api_settings settings;
  stand_in_listener listener;
  std::vector<call_update> updates;
  std::vector<call_creation_request> creations;
  std::deque<std::chrono::steady_clock::time_point> created_at;  // accepted creations in the last second
  std::size_t fetches = 0;  // authenticated GETs of a call
  dialler phones;

  impl(asio::io_context& io, twilio_api_settings s)
      : settings(std::move(s)),
        listener(io, settings.port, settings.tls_certificate_chain, settings.tls_private_key),
        phones(io, dialler_for(settings)) {}

  static dialler_settings dialler_for(const twilio_api_settings& s) {
    dialler_settings d;
    d.account_sid = s.account_sid;
    d.auth_token = s.auth_token;
    return d;
  }

  template <class Stream>
  static asio::awaitable<void> serve(Stream stream, std::shared_ptr<impl> self) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    if (auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple); ec) co_return;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    auto [status, body] = self->dispatch(req);
    res.result(status);
    res.body() = std::move(body);
    res.prepare_payload();
    co_await http::async_write(stream, res, use_tuple);
  }

  std::pair<unsigned, std::string> dispatch(const http::request<http::string_body>& req) {
    const std::string target(req.target());
    if (target == "/2010-04-01/Accounts/" + settings.account_sid + "/Calls.json") {
      call_creation_request creation;
      auto answer = create(req, creation);
      creation.answered = answer.first;
      if (!creation.call_sid.empty()) phones.dial(creation.call_sid, creation.form);
      creations.push_back(std::move(creation));
      return answer;
    }
    if (req.method() == http::verb::get) return fetch_call(req);
    call_update update;
    auto answer = update_call(req, update);
    update.answered = answer.first;
    updates.push_back(std::move(update));
    return answer;
  }

  bool authenticated(const http::request<http::string_body>& req) const {
    const std::string credentials = settings.account_sid + ":" + settings.auth_token;
    const std::string expected_auth =
        "Basic " + util::base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(credentials.data()), credentials.size()));
    return req[http::field::authorization] == expected_auth;
  }

  // The SID in .../Calls/{CallSid}.json, or "" for another path.
  std::string call_sid_in(std::string_view target) const {
    const std::string prefix = "/2010-04-01/Accounts/" + settings.account_sid + "/Calls/";
    if (!target.starts_with(prefix) || !target.ends_with(".json") || target.size() <= prefix.size() + 5) return "";
    return std::string(target.substr(prefix.size(), target.size() - prefix.size() - 5));
  }

  // "Fetch a Call resource": the call as the dialler has it now (its status; its duration once ended).
  std::pair<unsigned, std::string> fetch_call(const http::request<http::string_body>& req) {
    if (!authenticated(req)) return std::pair{401u, twilio_error(401, 20003, "Authenticate")};
    ++fetches;
    const auto sid = call_sid_in(req.target());
    const auto* call = sid.empty() ? nullptr : phones.find(sid);
    if (!call) return {404, twilio_error(404, 20404, "The requested resource was not found")};
    boost::json::object o{{"sid", call->call_sid}, {"account_sid", settings.account_sid}, {"to", call->to},
                          {"from", call->from}, {"direction", "outbound-api"}, {"duration", nullptr}};
    const bool answered = call->answered != std::chrono::steady_clock::time_point{};
    if (!call->final_status.empty()) {
      o["status"] = call->final_status;
      const auto seconds = answered ? std::chrono::duration_cast<std::chrono::seconds>(call->ended - call->answered).count() : 0;
      o["duration"] = std::to_string(seconds);
    } else {
      o["status"] = answered ? "in-progress" : "ringing";
    }
    return {200, boost::json::serialize(o)};
  }

  // Basic auth, POST, and a form body, as every endpoint here wants them; the form, or the error answer.
  std::variant<twilio::form_params, std::pair<unsigned, std::string>> authenticated_form(
      const http::request<http::string_body>& req) const {
    if (!authenticated(req)) return std::pair{401u, twilio_error(401, 20003, "Authenticate")};
    if (req.method() != http::verb::post) return std::pair{405u, twilio_error(405, 20004, "Method not allowed")};
    if (!req[http::field::content_type].starts_with("application/x-www-form-urlencoded"))
      return std::pair{400u, twilio_error(400, 21100, "Content-Type must be application/x-www-form-urlencoded")};
    auto form = twilio::parse_form(req.body());
    if (!form) return std::pair{400u, twilio_error(400, 21100, "malformed form body")};
    return std::move(*form);
  }

  std::pair<unsigned, std::string> create(const http::request<http::string_body>& req, call_creation_request& creation) {
    auto checked = authenticated_form(req);
    if (auto* refusal = std::get_if<std::pair<unsigned, std::string>>(&checked)) return *refusal;
    const auto& form = std::get<twilio::form_params>(checked);
    for (const auto& p : form.all()) creation.form.emplace_back(p.name, p.value);
    const auto refuse = [&](unsigned status, int code, const std::string& message) {
      creation.twilio_code = code;
      return std::pair{status, twilio_error(status, code, message)};
    };
    if (!form.get("To")) return refuse(400, 21201, "No 'To' number is specified");
    if (!form.get("From")) return refuse(400, 21603, "A 'From' phone number is required.");
    if (!twilio::is_e164(form.get_or("To", ""))) return refuse(400, 21211, "The 'To' number is not a valid phone number.");
    if (!twilio::is_e164(form.get_or("From", ""))) return refuse(400, 21212, "Invalid From Number (caller ID)");
    const auto url = form.get("Url");
    if (!url && !form.get("Twiml")) return refuse(400, 21205, "A 'Url' or 'Twiml' is required");
    if (url && !is_http_url(*url)) return refuse(400, 21205, "Url is not a valid URL");
    for (const auto& p : form.all()) {
      if (p.name == "StatusCallbackEvent" && p.value != "initiated" && p.value != "ringing" && p.value != "answered" &&
          p.value != "completed")
        return refuse(400, 21626, "Invalid StatusCallbackEvent");
    }
    if (const auto timeout = form.get("Timeout")) {
      const int seconds = std::atoi(std::string(*timeout).c_str());
      if (seconds < 5 || seconds > 600) return refuse(400, 21216, "Timeout must be between 5 and 600 seconds");
    }
    if (form.get_or("AsyncAmd", "") == "true" && form.get_or("AsyncAmdStatusCallback", "").empty())
      return refuse(400, 21262, "No AMD status callback URL provided");
    // The account's calls per second, over the last second's accepted creations.
    const auto now = std::chrono::steady_clock::now();
    while (!created_at.empty() && now - created_at.front() >= std::chrono::seconds(1)) created_at.pop_front();
    if (created_at.size() >= settings.calls_per_second) return refuse(429, 20429, "Too Many Requests");
    created_at.push_back(now);
    creation.call_sid = new_call_sid();
    return {201, boost::json::serialize(boost::json::object{{"sid", creation.call_sid},
                                                            {"account_sid", settings.account_sid},
                                                            {"to", form.get_or("To", "")},
                                                            {"from", form.get_or("From", "")},
                                                            {"direction", "outbound-api"},
                                                            {"status", "queued"}})};
  }

  std::pair<unsigned, std::string> update_call(const http::request<http::string_body>& req, call_update& update) const {
    update.call_sid = call_sid_in(req.target());
    if (update.call_sid.empty()) return {404, twilio_error(404, 20404, "The requested resource was not found")};
    auto checked = authenticated_form(req);
    if (auto* refusal = std::get_if<std::pair<unsigned, std::string>>(&checked)) return *refusal;
    const auto* form = &std::get<twilio::form_params>(checked);
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
const std::vector<call_creation_request>& fake_twilio_api::creations() const { return impl_->creations; }
std::size_t fake_twilio_api::fetches() const { return impl_->fetches; }
void fake_twilio_api::dial_to(std::uint16_t gateway_port) { impl_->phones.deliver_to(gateway_port); }
dialler& fake_twilio_api::phones() { return impl_->phones; }

}  // namespace voicebridge::fake
