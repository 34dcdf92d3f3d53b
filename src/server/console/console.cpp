// The console's requests: who is signed in, which page, and the actions (each through the API or the call's
// own io thread). The pages themselves are rendered elsewhere (call_pages, operations_pages) from what this
// file loads (console_data.cpp).
#include "server/console/console.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include "server/calls_api.hpp"
#include "server/http_replies.hpp"
#include "server/console/console_assets.hpp"
#include "server/console/console_data.hpp"
#include "server/console/html.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/twiml.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::server::console {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using app::log;
using app::log_level;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Only the console's own files: no inline script or style, no other origin, no framing.
constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

clock_time now() { return std::chrono::system_clock::now(); }

// The browser reached us over https: through a TLS-terminating proxy (the gateway itself speaks plain HTTP).
bool over_https(const http_request& req) { return beast::iequals(req["X-Forwarded-Proto"], "https"); }

http_response reply(const http_request& req, unsigned status, std::string body, std::string_view type) {
  http_response res = text_response(status, std::move(body), req.version(), req.keep_alive());
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  if (type.starts_with("text/html")) {
    res.set("Content-Security-Policy", content_security_policy);
    res.set("X-Frame-Options", "DENY");
  }
  return res;
}

http_response see_other(const http_request& req, std::string_view location) {
  auto res = reply(req, 303, {}, "text/plain");
  res.set(http::field::location, location);
  return res;
}

// Written within HTTP_TIMEOUT_MS; true when the connection serves the next request.
asio::awaitable<bool> send(beast::tcp_stream& stream, http_response res, const app::config& config) {
  const bool keep_alive = res.keep_alive();
  const bool written = co_await write_response(stream, std::move(res), config.http_timeout);
  co_return written && keep_alive;
}

std::string client_address(beast::tcp_stream& stream) {
  beast::error_code ec;
  const auto endpoint = stream.socket().remote_endpoint(ec);
  return ec ? std::string("unknown") : endpoint.address().to_string();
}

// The path's parts after /console: "/console/calls/CA.../recording" -> {"calls", "CA...", "recording"}.
std::vector<std::string_view> parts_of(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?')).substr(console_path.size());
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') path.remove_prefix(1);
    const auto slash = path.find('/');
    if (!path.substr(0, slash).empty()) parts.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return parts;
}

std::optional<twilio::form_params> form_of(const http_request& req) {
  auto form = twilio::parse_form(req.body());
  if (!form) return std::nullopt;
  return std::move(*form);
}

asio::awaitable<http_response> sign_in(beast::tcp_stream& stream, const http_request& req, console_context& c) {
  const auto form = form_of(req);
  const std::string token = form ? std::string(form->get_or("token", "")) : std::string();
  const std::string address = client_address(stream);
  auto result = c.auth.sign_in(token, c.config.admin_token, address, util::random_hex(16), now());
  using kind = sign_in_result::kind;
  app::metrics().console_sign_ins.inc(result.what == kind::signed_in      ? "signed_in"
                                      : result.what == kind::rate_limited ? "rate_limited"
                                                                          : "wrong_token");
  if (result.what == kind::rate_limited) {
    log(log_level::warn, "console sign-in refused: too many failures", {{"address", address}});
    auto res = page(req, 429, sign_in_page("Too many failed sign-ins. Try again later."));
    res.set(http::field::retry_after, std::to_string(result.retry_after.count()));
    co_return res;
  }
  if (result.what != kind::signed_in) {
    log(log_level::warn, "console sign-in failed", {{"address", address}});
    co_return page(req, 401, sign_in_page("That is not the admin token."));
  }
  log(log_level::info, "console signed in", {{"address", address}});
  auto res = see_other(req, "/console/calls");
  res.set(http::field::set_cookie, session_cookie(*result.session, over_https(req), now()));
  co_return res;
}

// The recording or voicemail through the read API's own streaming (and range requests).
asio::awaitable<bool> serve_audio(beast::tcp_stream& stream, const http_request& req, console_context& c,
                                  std::string_view call_sid, std::string_view kind) {
  http_request api{http::verb::get, std::string(app::calls_api_path) + "/" + std::string(call_sid) + "/" + std::string(kind),
                   req.version()};
  api.set(http::field::authorization, "Bearer " + c.config.admin_token);
  if (!req[http::field::range].empty()) api.set(http::field::range, req[http::field::range]);
  api.keep_alive(req.keep_alive());
  co_return co_await serve_calls_api(stream, api, c.store, c.database_pool, c.config);
}

// The Server-Sent Events of the live view: every second, every call in progress. Ends when the browser goes,
// a write does not finish within HTTP_TIMEOUT_MS, the gateway stops, or after an hour (EventSource
// reconnects by itself).
asio::awaitable<bool> live_events(beast::tcp_stream& stream, const http_request& req, console_context& c) {
  if (c.event_streams.fetch_add(1) >= max_event_streams) {
    c.event_streams.fetch_sub(1);
    auto busy = reply(req, 503, "too many live views are open\n", "text/plain");  // named (GCC 12: docs/gcc12-coroutines.md)
    co_return co_await send(stream, std::move(busy), c.config);
  }
  struct release {
    std::atomic<unsigned>& n;
    ~release() { n.fetch_sub(1); }
  } releasing{c.event_streams};
  std::string out =
      "HTTP/1.1 200 OK\r\nServer: voicebridge\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\nretry: 2000\n\n";
  asio::steady_timer tick(stream.get_executor());
  const auto until = std::chrono::steady_clock::now() + std::chrono::hours(1);
  while (!c.stopping && std::chrono::steady_clock::now() < until) {
    const auto at = records::now_epoch_ms();
    out += live_event(live_rows(c.active, at), at);
    stream.expires_after(c.config.http_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(out), use_tuple);
    if (ec) break;
    out.clear();
    tick.expires_after(std::chrono::seconds(1));
    co_await tick.async_wait(use_tuple);
  }
  co_return false;
}

asio::awaitable<http_response> live_action(const http_request& req, console_context& c, std::string_view call_sid,
                                           std::string_view action, const twilio::form_params& form, const std::string& csrf) {
  auto call = c.active.find_live(call_sid);
  if (!call) co_return page(req, 404, message_page("Live calls", "That call is no longer in progress.", csrf));
  if (action == "end") {
    log(log_level::info, "console: call ended by the operator", {{"call_sid", call->call_sid}});
    call->end();
    co_return see_other(req, "/console/live");
  }
  const std::string number(form.get_or("number", ""));
  if (!twilio::is_e164(number))
    co_return page(req, 400, message_page("Live calls", "Transfer to an E.164 number, as +15551230000.", csrf));
  if (c.config.twilio_account_sid.empty())
    co_return page(req, 409, message_page("Live calls", "Transfers need TWILIO_ACCOUNT_SID.", csrf));
  log(log_level::info, "console: call transferred by the operator", {{"call_sid", call->call_sid}});
  call->transfer(number);
  co_return see_other(req, "/console/live");
}

// An action the API carries out (pause a campaign, retry a webhook): done, then back to the page.
// `back` and `title` are literals: no temporary is built for them in the caller's co_await (GCC 12:
// docs/gcc12-coroutines.md).
asio::awaitable<http_response> api_action(const http_request& req, console_context& c, std::string api_target,
                                          const char* back, const char* title, const std::string& csrf) {
  auto api = admin_api_request(http::verb::post, std::move(api_target), c.config);
  const auto answer = co_await c.api(std::move(api));
  if (answer.result_int() / 100 == 2) co_return see_other(req, back);
  co_return page(req, answer.result_int(), message_page(title, "Not done: " + answer.body(), csrf));
}

}  // namespace

http_response page(const http_request& req, unsigned status, std::string html) {
  return reply(req, status, std::move(html), "text/html; charset=utf-8");
}

bool is_console(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == console_path || path.starts_with(std::string(console_path) + "/");
}

namespace {

// The answer to a request that is not streamed (every page and action); `session` is nullopt when signed out.
asio::awaitable<http_response> answer(beast::tcp_stream& stream, const http_request& req, console_context& c,
                                      const std::vector<std::string_view>& parts, const std::optional<console_session>& session) {
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;
  const std::string_view first = parts.empty() ? std::string_view() : parts[0];
  if (first == "assets" && parts.size() == 2 && get) {
    const auto asset = find_asset(parts[1]);
    if (!asset) co_return reply(req, 404, "not found\n", "text/plain");
    auto res = reply(req, 200, std::string(asset->body), asset->content_type);
    res.set(http::field::cache_control, "max-age=300");
    co_return res;
  }
  if (first == "sign-in" && parts.size() == 1) {
    if (post) co_return co_await sign_in(stream, req, c);
    if (session) co_return see_other(req, "/console/calls");
    co_return page(req, 200, sign_in_page(""));
  }
  if (!session) {
    if (get) co_return see_other(req, "/console/sign-in");
    co_return page(req, 401, sign_in_page("Your session has ended: sign in again."));
  }
  const std::string& csrf = session->csrf;
  twilio::form_params form;
  if (post) {
    // Every change needs the session's CSRF token from the form (SameSite=Strict is the second line).
    auto sent = form_of(req);
    if (!sent || !console_auth::csrf_matches(*session, sent->get_or("csrf", ""))) {
      log(log_level::warn, "console: a form without its CSRF token was refused", {{"address", client_address(stream)}});
      co_return page(req, 403, message_page("Refused", "The form's CSRF token is missing or stale: reload the page.", csrf));
    }
    form = std::move(*sent);
  }
  if (first == "sign-out" && post) {
    c.auth.sign_out(*session, now());
    auto res = see_other(req, "/console/sign-in");
    res.set(http::field::set_cookie, cleared_cookie(over_https(req)));
    co_return res;
  }
  if (parts.empty()) co_return see_other(req, "/console/calls");
  if (first == "calls" && parts.size() == 1) {
    if (get) form = query_of(req);  // named (GCC 12: docs/gcc12-coroutines.md)
    co_return co_await calls_view(req, c, form, post, csrf);
  }
  if (first == "calls" && parts.size() == 2 && get) co_return co_await call_view(req, c, parts[1], csrf);
  if (first == "live" && parts.size() == 1 && get) {
    const auto at = records::now_epoch_ms();
    co_return page(req, 200, live_page(live_rows(c.active, at), csrf, at));
  }
  if (first == "live" && parts.size() == 3 && post && (parts[2] == "end" || parts[2] == "transfer"))
    co_return co_await live_action(req, c, parts[1], parts[2], form, csrf);
  if (first == "campaigns" && parts.size() == 1 && get) co_return co_await campaigns_view(req, c, csrf);
  if (first == "campaigns" && parts.size() == 3 && post && (parts[2] == "pause" || parts[2] == "resume" || parts[2] == "cancel")) {
    const std::string target = "/api/campaigns/" + std::string(parts[1]) + "/" + std::string(parts[2]);
    co_return co_await api_action(req, c, target, "/console/campaigns", "Campaigns", csrf);
  }
  if (first == "routes" && parts.size() == 1 && get) co_return page(req, 200, routes_view(c, csrf));
  if (first == "webhooks" && parts.size() == 1 && get) co_return co_await webhooks_view(req, c, csrf);
  if (first == "webhooks" && parts.size() == 3 && post && parts[2] == "retry") {
    const std::string target = "/api/webhooks/" + std::string(parts[1]) + "/retry";
    co_return co_await api_action(req, c, target, "/console/webhooks", "Failed webhooks", csrf);
  }
  if (first == "health" && parts.size() == 1 && get) co_return page(req, 200, health_view(c, csrf));
  co_return page(req, 404, message_page("Not found", "There is no such page.", csrf));
}

}  // namespace

asio::awaitable<bool> serve_console(beast::tcp_stream& stream, const http_request& req, console_context& c) {
  const auto& config = c.config;
  if (config.admin_token.empty()) {
    auto off = reply(req, 404, "the console is off: set ADMIN_TOKEN\n", "text/plain");
    co_return co_await send(stream, std::move(off), config);
  }
  if (req.method() != http::verb::get && req.method() != http::verb::post) {  // not HEAD: Beast would send the body
    auto refused = reply(req, 405, "method not allowed\n", "text/plain");
    co_return co_await send(stream, std::move(refused), config);
  }
  const auto parts = parts_of(req.target());
  const auto session = c.auth.check(cookie_value(req[http::field::cookie], session_cookie_name), config.admin_token, now());
  const bool get = req.method() == http::verb::get;
  // Streamed answers: a call's audio, and the live view's events.
  if (session && get && parts.size() == 3 && parts[0] == "calls" && (parts[2] == "recording" || parts[2] == "voicemail") &&
      twilio::is_valid_sid(parts[1]))
    co_return co_await serve_audio(stream, req, c, parts[1], parts[2]);
  if (session && get && parts.size() == 2 && parts[0] == "live" && parts[1] == "events") co_return co_await live_events(stream, req, c);
  http_response res = co_await answer(stream, req, c, parts, session);
  co_return co_await send(stream, std::move(res), config);
}

}  // namespace voicebridge::server::console
