#include "server/console/console_auth.hpp"

#include <algorithm>
#include <charconv>

#include "voicebridge/util/crypto.hpp"

namespace voicebridge::server::console {
namespace {

constexpr std::string_view cookie_version = "v1";

std::string signing_key(std::string_view admin_token) {
  const auto key = util::hmac_sha256(admin_token, "voicebridge console session key");
  return std::string(key.begin(), key.end());
}

std::string sign(std::string_view key, std::string_view text) {
  const auto mac = util::hmac_sha256(key, text);
  return util::hex_lower(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

std::int64_t unix_seconds(clock_time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool is_hex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

console_session make_session(std::string_view key, std::int64_t expires_s, std::string_view nonce) {
  const std::string body = std::string(cookie_version) + "." + std::to_string(expires_s) + "." + std::string(nonce);
  return {body + "." + sign(key, body), sign(key, "csrf." + std::string(nonce)),
          clock_time(std::chrono::seconds(expires_s))};
}

}  // namespace

bool console_auth::limited(failures& f, unsigned limit, std::chrono::minutes window, clock_time now) {
  if (now - f.window_start >= window) f = {0, now};
  return f.count >= limit;
}

void console_auth::count(failures& f, std::chrono::minutes window, clock_time now) {
  if (now - f.window_start >= window) f = {0, now};
  ++f.count;
}

sign_in_result console_auth::sign_in(std::string_view given_token, std::string_view admin_token, std::string_view address,
                                     std::string_view nonce, clock_time now) {
  if (admin_token.empty()) return {sign_in_result::kind::console_off, std::nullopt, {}};
  std::lock_guard lock(mutex_);
  auto at = by_address_.find(address);
  if (at == by_address_.end()) {
    if (by_address_.size() >= tracked_addresses) {
      by_address_.erase(std::min_element(by_address_.begin(), by_address_.end(), [](const auto& a, const auto& b) {
        return a.second.window_start < b.second.window_start;
      }));
    }
    at = by_address_.emplace(std::string(address), failures{0, now}).first;
  }
  const auto wait = [&](const failures& f, std::chrono::minutes window) {
    return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(f.window_start + window - now));
  };
  // Checked before the token: a limited address learns nothing, even from the right token.
  if (limited(at->second, failures_per_address, address_window, now))
    return {sign_in_result::kind::rate_limited, std::nullopt, wait(at->second, address_window)};
  if (limited(everywhere_, failures_everywhere, everywhere_window, now))
    return {sign_in_result::kind::rate_limited, std::nullopt, wait(everywhere_, everywhere_window)};
  if (!util::constant_time_equal(given_token, admin_token)) {
    count(at->second, address_window, now);
    count(everywhere_, everywhere_window, now);
    return {sign_in_result::kind::wrong_token, std::nullopt, {}};
  }
  by_address_.erase(at);  // a good sign-in starts the address afresh
  const auto expires = unix_seconds(now + session_lifetime);
  return {sign_in_result::kind::signed_in, make_session(signing_key(admin_token), expires, nonce), {}};
}

std::optional<console_session> console_auth::check(std::string_view cookie, std::string_view admin_token,
                                                   clock_time now) const {
  if (admin_token.empty() || cookie.size() > 256) return std::nullopt;
  // v1.<expires>.<nonce>.<signature>
  const auto first = cookie.find('.');
  const auto second = first == std::string_view::npos ? first : cookie.find('.', first + 1);
  const auto third = second == std::string_view::npos ? second : cookie.find('.', second + 1);
  if (third == std::string_view::npos || cookie.substr(0, first) != cookie_version) return std::nullopt;
  const auto expires_text = cookie.substr(first + 1, second - first - 1);
  const auto nonce = cookie.substr(second + 1, third - second - 1);
  std::int64_t expires_s = 0;
  const auto [end, ec] = std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(), expires_s);
  if (ec != std::errc() || end != expires_text.data() + expires_text.size() || !is_hex(nonce) || nonce.size() > 64)
    return std::nullopt;
  auto session = make_session(signing_key(admin_token), expires_s, nonce);
  if (!util::constant_time_equal(session.cookie, cookie) || expires_s <= unix_seconds(now)) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (signed_out_.contains(cookie)) return std::nullopt;
  return session;
}

void console_auth::sign_out(const console_session& session, clock_time now) {
  std::lock_guard lock(mutex_);
  // Bounded by the sessions' own lifetime: what has expired needs no entry.
  std::erase_if(signed_out_, [now](const auto& s) { return s.second <= now; });
  if (signed_out_.size() < 100000) signed_out_.emplace(session.cookie, session.expires);
}

bool console_auth::csrf_matches(const console_session& session, std::string_view given) {
  return !given.empty() && util::constant_time_equal(session.csrf, given);
}

std::string session_cookie(const console_session& session, bool secure, clock_time now) {
  const auto max_age = std::max<std::int64_t>(0, unix_seconds(session.expires) - unix_seconds(now));
  return std::string(session_cookie_name) + "=" + session.cookie + "; Path=/console; Max-Age=" + std::to_string(max_age) +
         "; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

std::string cleared_cookie(bool secure) {
  return std::string(session_cookie_name) + "=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    auto pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return {};
}

}  // namespace voicebridge::server::console
