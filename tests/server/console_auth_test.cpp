// The console's sessions without sockets or clocks: signed cookies any instance can check, their expiry and
// sign-out, CSRF tokens, and the limits on failed sign-ins (per address and across all addresses).
#include <boost/test/unit_test.hpp>

#include "server/console/console_auth.hpp"

using namespace voicebridge::server::console;
using namespace std::chrono_literals;
using kind = sign_in_result::kind;

namespace {

const std::string token = "the-admin-token-0123456789";
const clock_time t0 = clock_time(std::chrono::seconds(1'800'000'000));
const std::string nonce = "00112233445566778899aabbccddeeff";

console_session signed_in(console_auth& auth, clock_time at = t0) {
  auto r = auth.sign_in(token, token, "192.0.2.1", nonce, at);
  BOOST_TEST_REQUIRE((r.what == kind::signed_in));
  return *r.session;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(console_auth_sessions)

BOOST_AUTO_TEST_CASE(the_admin_token_gives_a_session_that_another_instance_accepts_until_it_expires) {
  console_auth here, elsewhere;
  const auto session = signed_in(here);
  BOOST_TEST(session.cookie.find(token) == std::string::npos);  // the token itself never travels back
  const auto checked = elsewhere.check(session.cookie, token, t0 + 1h);
  BOOST_TEST_REQUIRE(checked.has_value());
  BOOST_TEST(checked->csrf == session.csrf);
  BOOST_TEST(!elsewhere.check(session.cookie, token, t0 + session_lifetime).has_value());
  BOOST_TEST(!elsewhere.check(session.cookie, "a-new-admin-token-000000", t0 + 1h).has_value());  // a new token signs everyone out
}

BOOST_AUTO_TEST_CASE(a_cookie_altered_anywhere_is_refused) {
  console_auth auth;
  const auto session = signed_in(auth);
  for (std::size_t i = 0; i < session.cookie.size(); ++i) {
    auto altered = session.cookie;
    altered[i] = altered[i] == '1' ? '2' : '1';
    BOOST_TEST(!auth.check(altered, token, t0).has_value(), "position " << i);
  }
  // A later expiry with the old signature, pieces missing, junk, and a cookie longer than any we make.
  auto later = session.cookie;
  later.replace(3, 10, "1900000000");
  for (const std::string& bad : {later, std::string("v1"), std::string("v1..."), std::string("v2.1.aa.bb"),
                                 std::string(300, 'a'), std::string()})
    BOOST_TEST(!auth.check(bad, token, t0).has_value(), bad);
  BOOST_TEST(!auth.check(session.cookie, "", t0).has_value());  // no ADMIN_TOKEN: no console
}

BOOST_AUTO_TEST_CASE(sign_out_ends_the_session_on_this_instance) {
  console_auth auth;
  const auto session = signed_in(auth);
  auth.sign_out(session, t0);
  BOOST_TEST(!auth.check(session.cookie, token, t0 + 1s).has_value());
}

BOOST_AUTO_TEST_CASE(the_csrf_token_is_the_sessions_own) {
  console_auth auth;
  const auto one = signed_in(auth);
  auto r = auth.sign_in(token, token, "192.0.2.1", "ffeeddccbbaa99887766554433221100", t0);
  BOOST_TEST_REQUIRE((r.what == kind::signed_in));
  BOOST_TEST(console_auth::csrf_matches(one, one.csrf));
  BOOST_TEST(!console_auth::csrf_matches(one, r.session->csrf));
  BOOST_TEST(!console_auth::csrf_matches(one, ""));
  BOOST_TEST(one.csrf.size() == 64u);
}

BOOST_AUTO_TEST_CASE(five_failures_from_one_address_lock_it_for_fifteen_minutes_even_with_the_right_token) {
  console_auth auth;
  for (int i = 0; i < 5; ++i)
    BOOST_TEST((auth.sign_in("guess", token, "198.51.100.7", nonce, t0 + std::chrono::seconds(i)).what == kind::wrong_token));
  const auto locked = auth.sign_in(token, token, "198.51.100.7", nonce, t0 + 10s);
  BOOST_TEST((locked.what == kind::rate_limited));
  BOOST_TEST(locked.retry_after.count() == 15 * 60 - 10);
  BOOST_TEST((auth.sign_in(token, token, "198.51.100.8", nonce, t0 + 10s).what == kind::signed_in));  // another address
  BOOST_TEST((auth.sign_in(token, token, "198.51.100.7", nonce, t0 + 15min).what == kind::signed_in));
}

BOOST_AUTO_TEST_CASE(thirty_failures_a_minute_from_many_addresses_pause_every_sign_in) {
  console_auth auth;
  for (int i = 0; i < 30; ++i)
    BOOST_TEST((auth.sign_in("guess", token, "203.0.113." + std::to_string(i), nonce, t0).what == kind::wrong_token));
  BOOST_TEST((auth.sign_in(token, token, "192.0.2.50", nonce, t0 + 1s).what == kind::rate_limited));
  BOOST_TEST((auth.sign_in(token, token, "192.0.2.50", nonce, t0 + 61s).what == kind::signed_in));
}

BOOST_AUTO_TEST_CASE(without_an_admin_token_nobody_signs_in) {
  console_auth auth;
  BOOST_TEST((auth.sign_in("", "", "192.0.2.1", nonce, t0).what == kind::console_off));
}

BOOST_AUTO_TEST_CASE(cookies_are_httponly_strict_and_secure_over_https) {
  console_auth auth;
  const auto session = signed_in(auth);
  const auto plain = session_cookie(session, false, t0);
  BOOST_TEST(plain.starts_with("vb_console=" + session.cookie + "; Path=/console; Max-Age=28800"));
  BOOST_TEST(plain.find("HttpOnly") != std::string::npos);
  BOOST_TEST(plain.find("SameSite=Strict") != std::string::npos);
  BOOST_TEST(plain.find("Secure") == std::string::npos);
  BOOST_TEST(session_cookie(session, true, t0).ends_with("; Secure"));
  BOOST_TEST(cleared_cookie(false).find("Max-Age=0") != std::string::npos);
  BOOST_TEST(cookie_value("a=1; vb_console=abc; b=2", "vb_console") == "abc");
  BOOST_TEST(cookie_value("vb_consolex=1", "vb_console") == "");
  BOOST_TEST(cookie_value("", "vb_console") == "");
}

BOOST_AUTO_TEST_SUITE_END()
