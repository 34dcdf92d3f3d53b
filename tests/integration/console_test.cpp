// The operator console over real sockets, on an in-process gateway with the fake ElevenLabs agent: sign-in
// and its cookie, the limits on failed sign-ins, CSRF on every change, the Content-Security-Policy, escaping
// of what a caller said, the calls filter (a number only in a POST body), audio by range requests, the live
// view (its events and its End button) and where the console is served.
#include <boost/beast/http.hpp>
#include <boost/test/unit_test.hpp>
#include <regex>

#include "console_client.hpp"
#include "server/console/console.hpp"
#include "twilio-sim/simulator.hpp"
#include "voicebridge/app/metrics.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// A browser's live view over `stream`: the request with the session cookie, then what the gateway sends, read
// into `got` until `done(got)`. The stream stays open (the view goes on) until its owner closes it.
asio::awaitable<void> open_live_view(beast::tcp_stream& stream, std::uint16_t port, std::string cookie, std::string& got,
                                     std::function<bool(const std::string&)> done) {
  stream.expires_after(10s);
  co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
  const std::string req = "GET /console/live/events HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n";
  co_await asio::async_write(stream, asio::buffer(req), asio::use_awaitable);
  std::array<char, 4096> buf;
  while (!done(got)) got.append(buf.data(), co_await stream.async_read_some(asio::buffer(buf), asio::use_awaitable));
}

bool has_first_event(const std::string& got) {
  const auto at = got.find("event: calls");
  return at != std::string::npos && got.find("\n\n", at) != std::string::npos;
}

std::string place_call(gateway& gw, std::size_t frames = 40) {
  auto o = gw.caller(speech(frames, 5));
  auto s = gw.run(sim::run_call(o));
  BOOST_TEST_REQUIRE(s.error == "");
  gw.settle();
  BOOST_TEST_REQUIRE(gw.server->flush_records(10s));
  return s.call_sid;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(console_http)

BOOST_AUTO_TEST_CASE(sign_in_gives_a_strict_httponly_cookie_and_pages_carry_a_strict_csp) {
  gateway gw(console_config());
  browser b{gw, gw.port, {}, {}};
  auto first = b.get("/console/calls");
  BOOST_TEST(first.result_int() == 303u);
  BOOST_TEST(first[http::field::location] == "/console/sign-in");
  BOOST_TEST(b.go(http::verb::post, "/console/sign-in", "token=wrong-token").result_int() == 401u);
  auto ok = b.go(http::verb::post, "/console/sign-in", "token=" + test_admin_token);
  BOOST_TEST(ok.result_int() == 303u);
  const std::string cookie = ok[http::field::set_cookie];
  BOOST_TEST(contains(cookie, "HttpOnly"));
  BOOST_TEST(contains(cookie, "SameSite=Strict"));
  BOOST_TEST(contains(cookie, "Max-Age=28800"));
  BOOST_TEST(!contains(cookie, "Secure"));
  BOOST_TEST(!contains(cookie, test_admin_token));
  auto over_tls = b.go(http::verb::post, "/console/sign-in", "token=" + test_admin_token, {{"X-Forwarded-Proto", "https"}});
  BOOST_TEST(contains(std::string(over_tls[http::field::set_cookie]), "; Secure"));

  b.sign_in();
  for (const std::string page : {"/console/calls", "/console/live", "/console/campaigns", "/console/routes", "/console/webhooks",
                                 "/console/health"}) {
    auto res = b.get(page);
    BOOST_TEST(res.result_int() == 200u, page);
    const std::string csp = res["Content-Security-Policy"];
    BOOST_TEST(contains(csp, "default-src 'none'"), page);
    BOOST_TEST(contains(csp, "script-src 'self'"), page);
    BOOST_TEST(contains(csp, "frame-ancestors 'none'"), page);
    BOOST_TEST(res[http::field::cache_control] == "no-store", page);
    BOOST_TEST(!contains(res.body(), "<script>"), page);  // no inline script anywhere
  }
  auto css = b.get("/console/assets/console.css");
  BOOST_TEST(css.result_int() == 200u);
  BOOST_TEST(css[http::field::content_type] == "text/css; charset=utf-8");
  BOOST_TEST(contains(b.get("/console/assets/console.js").body(), "EventSource"));
  BOOST_TEST(b.get("/console/assets/other.js").result_int() == 404u);

  // Signed out: the cookie no longer opens a page.
  BOOST_TEST(b.post("/console/sign-out", "").result_int() == 303u);
  BOOST_TEST(b.get("/console/calls").result_int() == 303u);
}

BOOST_AUTO_TEST_CASE(every_change_needs_the_csrf_token) {
  gateway gw(console_config());
  browser b{gw, gw.port, {}, {}};
  b.sign_in();
  const std::string good = b.csrf;
  BOOST_TEST(b.post("/console/sign-out", "", false).result_int() == 403u);
  BOOST_TEST(b.post("/console/sign-out", "csrf=" + std::string(64, '0'), false).result_int() == 403u);
  BOOST_TEST(b.post("/console/webhooks/WH" + std::string(32, 'a') + "/retry", "", false).result_int() == 403u);
  BOOST_TEST(b.post("/console/campaigns/x/pause", "", false).result_int() == 403u);
  b.csrf = good;
  BOOST_TEST(b.get("/console/calls").result_int() == 200u);  // still signed in
  // Without a session a POST is refused before anything is looked at.
  browser stranger{gw, gw.port, {}, good};
  BOOST_TEST(stranger.post("/console/sign-out", "").result_int() == 401u);
}

BOOST_AUTO_TEST_CASE(failed_sign_ins_are_limited_and_counted) {
  gateway gw(console_config());
  browser b{gw, gw.port, {}, {}};
  const auto before = app::metrics().console_sign_ins.value("rate_limited");
  for (int i = 0; i < 5; ++i) BOOST_TEST(b.go(http::verb::post, "/console/sign-in", "token=guess" + std::to_string(i)).result_int() == 401u);
  auto limited = b.go(http::verb::post, "/console/sign-in", "token=" + test_admin_token);
  BOOST_TEST(limited.result_int() == 429u);
  BOOST_TEST(!limited[http::field::retry_after].empty());
  BOOST_TEST(app::metrics().console_sign_ins.value("rate_limited") == before + 1);
  BOOST_TEST(contains(gw.logs.str(), "console sign-in refused: too many failures"));
  BOOST_TEST(!contains(gw.logs.str(), test_admin_token));
}

BOOST_AUTO_TEST_CASE(a_call_shows_its_transcript_as_text_and_streams_its_recording_by_ranges) {
  gateway gw(console_config(), talking_agent());
  const auto call_sid = place_call(gw);
  browser b{gw, gw.port, {}, {}};
  b.sign_in();
  auto list = b.get("/console/calls");
  BOOST_TEST(contains(list.body(), "/console/calls/" + call_sid));
  auto page = b.get("/console/calls/" + call_sid);
  BOOST_TEST_REQUIRE(page.result_int() == 200u);
  BOOST_TEST(contains(page.body(), "&lt;script&gt;alert(&apos;xss&apos;)&lt;/script&gt; I would like a table"));
  BOOST_TEST(!contains(page.body(), "<script>alert"));
  BOOST_TEST(contains(page.body(), "<audio controls preload=\"metadata\" src=\"/console/calls/" + call_sid + "/recording\""));
  BOOST_TEST(contains(page.body(), "Caller spoke"));

  auto whole = b.get("/console/calls/" + call_sid + "/recording");
  BOOST_TEST_REQUIRE(whole.result_int() == 200u);
  BOOST_TEST(whole[http::field::accept_ranges] == "bytes");
  auto part = b.get("/console/calls/" + call_sid + "/recording", {{"Range", "bytes=100-199"}});
  BOOST_TEST(part.result_int() == 206u);
  BOOST_TEST(part.body() == whole.body().substr(100, 100));
  BOOST_TEST(part[http::field::content_range] == "bytes 100-199/" + std::to_string(whole.body().size()));
  BOOST_TEST(b.get("/console/calls/" + call_sid + "/recording", {{"Range", "bytes=99999999-"}}).result_int() == 416u);
  browser stranger{gw, gw.port, {}, {}};
  BOOST_TEST(stranger.get("/console/calls/" + call_sid + "/recording").result_int() == 303u);
  BOOST_TEST(b.get("/console/calls/CA" + std::string(32, '0')).result_int() == 404u);
}

BOOST_AUTO_TEST_CASE(calls_are_filtered_by_number_only_through_the_form_body) {
  gateway gw(console_config(), talking_agent());
  const auto call_sid = place_call(gw);
  browser b{gw, gw.port, {}, {}};
  b.sign_in();
  BOOST_TEST(b.get("/console/calls?number=%2B15551230001").result_int() == 400u);
  auto mine = b.post("/console/calls", "number=%2B15551230001");
  BOOST_TEST(mine.result_int() == 200u);
  BOOST_TEST(contains(mine.body(), call_sid));
  auto other = b.post("/console/calls", "number=%2B15550000000");
  BOOST_TEST(!contains(other.body(), call_sid));
  BOOST_TEST(contains(b.get("/console/calls?route=default&direction=inbound&outcome=agent").body(), call_sid));
  BOOST_TEST(!contains(b.get("/console/calls?direction=outbound").body(), call_sid));
  BOOST_TEST(!contains(b.get("/console/calls?since=2099-01-01").body(), call_sid));
  BOOST_TEST(b.get("/console/calls?since=tomorrow").result_int() == 400u);
}

BOOST_AUTO_TEST_CASE(a_live_call_is_listed_streamed_as_an_event_and_ended_by_its_button) {
  gateway gw(console_config(), talking_agent());
  browser b{gw, gw.port, {}, {}};
  b.sign_in();
  auto o = gw.caller(speech(1500, 7));  // 30 s: ended by the operator long before
  bool done = false;
  sim::call_summary summary;
  asio::co_spawn(gw.io, sim::run_call(o), [&](std::exception_ptr e, sim::call_summary s) {
    if (e) std::rethrow_exception(e);
    summary = std::move(s);
    done = true;
  });
  gw.run_until([&] { return gw.server->active_calls() == 1; });
  auto live = b.get("/console/live");
  std::smatch m;
  const std::string page = live.body();
  BOOST_TEST_REQUIRE(std::regex_search(page, m, std::regex("data-call=\"(CA[0-9a-f]{32})\"")));
  const std::string call_sid = m[1];
  BOOST_TEST(contains(page, "+15551230001"));

  // The first event of the live view's stream lists the call.
  std::string events;
  beast::tcp_stream view(gw.io);
  asio::co_spawn(gw.io, open_live_view(view, gw.port, b.cookie, events, has_first_event), asio::detached);
  gw.run_until([&] { return has_first_event(events); });
  BOOST_TEST(contains(events, "Content-Type: text/event-stream"));
  BOOST_TEST(contains(events, "\"call_sid\":\"" + call_sid + "\""));

  BOOST_TEST(b.post("/console/live/" + call_sid + "/transfer", "number=12345").result_int() == 400u);
  auto ended = b.post("/console/live/" + call_sid + "/end", "");
  BOOST_TEST(ended.result_int() == 303u);
  gw.run_until([&] { return done; });
  gw.settle();
  BOOST_TEST_REQUIRE(gw.server->flush_records(10s));
  BOOST_TEST(call_record(gw, call_sid).at("end_reason").as_string() == "ended by operator");
  BOOST_TEST(b.post("/console/live/" + call_sid + "/end", "").result_int() == 404u);  // no longer live
  BOOST_TEST(contains(gw.logs.str(), "console: call ended by the operator"));
}

BOOST_AUTO_TEST_CASE(live_views_are_bounded_and_a_view_past_the_bound_is_told_so) {
  gateway gw(console_config());
  browser b{gw, gw.port, {}, {}};
  b.sign_in();
  // 32 live views held open (each has read its first event), then one more.
  std::vector<std::unique_ptr<beast::tcp_stream>> open;
  std::vector<std::string> got(server::console::max_event_streams);
  for (unsigned i = 0; i < server::console::max_event_streams; ++i) {
    open.push_back(std::make_unique<beast::tcp_stream>(gw.io));
    asio::co_spawn(gw.io, open_live_view(*open.back(), gw.port, b.cookie, got[i], has_first_event), asio::detached);
  }
  const auto ready = [&] { return static_cast<unsigned>(std::count_if(got.begin(), got.end(), has_first_event)); };
  gw.run_until([&] { return ready() == server::console::max_event_streams; });
  auto refused = b.get("/console/live/events");
  BOOST_TEST(refused.result_int() == 503u);
  BOOST_TEST(contains(refused.body(), "too many live views"));
  // The browsers go: each view ends at its next write, and a new one is let in.
  open.clear();
  std::string status;
  gw.run_until([&] {
    std::string got_next;
    beast::tcp_stream next(gw.io);
    const auto status_line = [](const std::string& g) { return g.find("\r\n") != std::string::npos; };
    asio::co_spawn(gw.io, open_live_view(next, gw.port, b.cookie, got_next, status_line), asio::detached);
    gw.run_until([&] { return status_line(got_next); });
    status = got_next.substr(0, got_next.find("\r\n"));
    return status == "HTTP/1.1 200 OK";
  });
}

BOOST_AUTO_TEST_CASE(the_console_lives_on_the_admin_listener_when_there_is_one_and_is_off_without_a_token) {
  {
    auto c = console_config();
    c.metrics_address = "127.0.0.1:0";
    gateway gw(c);
    BOOST_TEST(gw.run(request(gw.port, http::verb::get, "/console/sign-in")).result_int() == 404u);
    BOOST_TEST(gw.run(request(gw.server->metrics_port(), http::verb::get, "/console/sign-in")).result_int() == 200u);
  }
  auto c = gateway_config();
  gateway gw(c);
  auto off = gw.run(request(gw.port, http::verb::get, "/console/calls"));
  BOOST_TEST(off.result_int() == 404u);
  BOOST_TEST(contains(off.body(), "ADMIN_TOKEN"));
}

BOOST_AUTO_TEST_SUITE_END()
