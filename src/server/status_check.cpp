#include "server/status_check.hpp"

#include <algorithm>

namespace voicebridge::server {
namespace {
constexpr std::int64_t ms(std::chrono::milliseconds d) { return d.count(); }
}  // namespace

status_check after_fetch(const twilio::fetched_call& fetched, std::int64_t claimed_at_ms, std::int64_t now_ms) {
  using step = status_check::step;
  if (fetched.status == 404) return {step::unknown, 0};
  if (!fetched.ok()) {
    // No answer, a 5xx or 429: Twilio comes back. A 401 or 403 needs the operator (the log says so): not
    // asked again every minute meanwhile.
    const bool credentials = fetched.status == 401 || fetched.status == 403;
    return {step::look_again, now_ms + (credentials ? 10 * ms(status_check_lease) : ms(status_check_lease))};
  }
  if (records::is_final_call_status(fetched.call_status)) return {step::settle, 0};
  const auto lasted = std::max<std::int64_t>(0, now_ms - claimed_at_ms);
  return {step::look_again, now_ms + std::clamp<std::int64_t>(lasted, 30'000, 30 * 60'000)};
}

}  // namespace voicebridge::server
