// A browser's part in the console tests, over real sockets: it keeps the session cookie and the CSRF token of
// the last page, and sends forms as a browser does.
#pragma once
#include <boost/beast/http.hpp>
#include <regex>

#include "gateway_fixture.hpp"

namespace voicebridge::testing {

using console_response = http::response<http::string_body>;

inline app::config console_config() {
  auto c = gateway_config();
  c.admin_token = test_admin_token;
  c.record_calls = true;
  return c;
}

inline fake::agent_script talking_agent() {
  fake::agent_script s;
  s.transcripts = true;
  s.user_transcript = "<script>alert('xss')</script> I would like a table";
  return s;
}

inline asio::awaitable<console_response> request(std::uint16_t port, http::verb verb, std::string target, std::string body = {},
                                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(std::chrono::seconds(10));
  co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "console.example.test");
  if (!body.empty()) req.set(http::field::content_type, "application/x-www-form-urlencoded");
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = std::move(body);
  req.prepare_payload();
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  console_response res;
  co_await http::async_read(stream, buffer, res, asio::use_awaitable);
  co_return res;
}

struct browser {  // what a browser keeps: the session cookie, and the CSRF token from the last page
  gateway& gw;
  std::uint16_t port;
  std::string cookie, csrf;

  console_response go(http::verb verb, std::string target, std::string body = {}, std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!cookie.empty()) headers.emplace_back("Cookie", cookie);
    auto res = gw.run(request(port, verb, std::move(target), std::move(body), std::move(headers)));
    std::smatch m;
    const std::string page = res.body();
    if (std::regex_search(page, m, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\""))) csrf = m[1];
    return res;
  }
  console_response get(std::string target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return go(http::verb::get, std::move(target), {}, std::move(headers));
  }
  console_response post(std::string target, std::string form, bool with_csrf = true) {
    if (with_csrf) form += (form.empty() ? "" : "&") + std::string("csrf=") + csrf;
    return go(http::verb::post, std::move(target), std::move(form));
  }
  void sign_in() {
    auto res = go(http::verb::post, "/console/sign-in", "token=" + test_admin_token);
    BOOST_TEST_REQUIRE(res.result_int() == 303u);
    const std::string set = res[http::field::set_cookie];
    cookie = set.substr(0, set.find(';'));
    get("/console/calls");  // its CSRF token
    BOOST_TEST_REQUIRE(!csrf.empty());
  }
};

}  // namespace voicebridge::testing
