// Who may use the operator console (server/console/console.hpp), decided without sockets or clocks of its own.
//
// Signing in with the admin token gives a session cookie that any instance can check: it carries its expiry
// and a nonce, signed with a key derived from ADMIN_TOKEN (HMAC-SHA256), so several instances behind one
// load balancer accept each other's sessions, and a new ADMIN_TOKEN signs everyone out. Each session has a
// CSRF token derived the same way from its nonce, which every state-changing form sends back.
//
// Failed sign-ins are limited per client address (5 in 15 minutes) and across all addresses (30 a minute),
// so the token cannot be guessed at speed from one address or many.
#pragma once
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace voicebridge::server::console {

using clock_time = std::chrono::system_clock::time_point;

inline constexpr std::string_view session_cookie_name = "vb_console";
inline constexpr std::chrono::hours session_lifetime{8};

struct console_session {
  std::string cookie;  // the cookie's value
  std::string csrf;    // what this session's forms carry
  clock_time expires;
};

struct sign_in_result {
  enum class kind { signed_in, wrong_token, rate_limited, console_off } what = kind::wrong_token;
  std::optional<console_session> session;  // signed_in
  std::chrono::seconds retry_after{0};     // rate_limited
};

class console_auth {
 public:
  static constexpr unsigned failures_per_address = 5;
  static constexpr std::chrono::minutes address_window{15};
  static constexpr unsigned failures_everywhere = 30;
  static constexpr std::chrono::minutes everywhere_window{1};
  static constexpr std::size_t tracked_addresses = 10000;  // beyond it the oldest window is forgotten

  // `nonce`: fresh random text for the new session (the caller's CSPRNG: this class has no I/O).
  sign_in_result sign_in(std::string_view given_token, std::string_view admin_token, std::string_view address,
                         std::string_view nonce, clock_time now);
  // The session a cookie value proves, if it is well formed, signed with this admin token, not expired and
  // not signed out.
  std::optional<console_session> check(std::string_view cookie, std::string_view admin_token, clock_time now) const;
  // This instance forgets the session (the browser drops its cookie; other instances see it expire).
  void sign_out(const console_session& session, clock_time now);
  static bool csrf_matches(const console_session& session, std::string_view given);

 private:
  struct failures {
    unsigned count = 0;
    clock_time window_start;
  };
  static bool limited(failures& f, unsigned limit, std::chrono::minutes window, clock_time now);
  static void count(failures& f, std::chrono::minutes window, clock_time now);

  mutable std::mutex mutex_;  // the gateway's sessions run on every io thread
  std::map<std::string, failures, std::less<>> by_address_;
  failures everywhere_;
  std::map<std::string, clock_time, std::less<>> signed_out_;  // cookie -> its expiry (dropped after it)
};

// The Set-Cookie value for a session (Secure when the browser reached us over https), and the one that
// clears it.
std::string session_cookie(const console_session& session, bool secure, clock_time now);
std::string cleared_cookie(bool secure);
// The value of cookie `name` in a Cookie header; empty when it has none.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace voicebridge::server::console
